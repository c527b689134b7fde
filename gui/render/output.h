// Shared by the renderers: the Qt application they need, the output formats
// and writing a plot to a file atomically.
#pragma once

#include <initializer_list>
#include <string>

class QCustomPlot;
class QImage;
class QByteArray;

namespace kvscope::render {

enum class ImageFormat { Png, Svg, Pdf };

// Makes sure a QApplication exists (QCustomPlot is a widget). Without one it
// creates one for the rest of the process; with no QT_QPA_PLATFORM set and no
// X11/Wayland display it first selects the "offscreen" platform, so rendering
// works headless. Call from the main thread. Throws std::runtime_error when a
// QCoreApplication (not a QApplication) already exists.
void ensure_qt_application();

// The format named by `path`'s extension (case-insensitive: .png, .svg, .pdf).
// Throws std::runtime_error naming the extensions in `allowed` otherwise.
ImageFormat format_from_path(const std::string& path, std::initializer_list<ImageFormat> allowed);

// Draws `plot` at width x height into `path` in `format`. The file is written
// under a temporary name in the same directory and renamed when complete, so a
// failure leaves no file (and an older file at `path` untouched). Throws
// std::runtime_error with the path and the reason.
void save_plot(QCustomPlot& plot, const std::string& path, ImageFormat format, int width, int height);

// Writes `image` as PNG to `path` atomically (temporary file, renamed when
// complete). Throws std::runtime_error with the path and the reason.
void save_image_png(const QImage& image, const std::string& path);
// Writes `bytes` to `path` atomically; throws like save_image_png.
void save_bytes(const QByteArray& bytes, const std::string& path);

}  // namespace kvscope::render
