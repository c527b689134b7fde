#include "render/output.h"

#include <QApplication>
#include <QFileInfo>
#include <QImage>
#include <QMarginsF>
#include <QPageLayout>
#include <QPageSize>
#include <QPdfWriter>
#include <QSaveFile>
#include <QSvgGenerator>
#include <qcustomplot.h>

#include <stdexcept>

namespace kvscope::render {

namespace {

// The extension, without its dot.
QString extension_of(ImageFormat format) {
    switch (format) {
        case ImageFormat::Png: return QStringLiteral("png");
        case ImageFormat::Svg: return QStringLiteral("svg");
        case ImageFormat::Pdf: return QStringLiteral("pdf");
    }
    return {};
}

std::string write_error(const std::string& path, const QString& reason) {
    return "cannot write " + path + ": " + reason.toStdString();
}

}  // namespace

void ensure_qt_application() {
    if (QCoreApplication::instance() != nullptr) {
        if (qobject_cast<QApplication*>(QCoreApplication::instance()) == nullptr)
            throw std::runtime_error("rendering needs a QApplication, but this process created a QCoreApplication");
        return;
    }
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") && qEnvironmentVariableIsEmpty("DISPLAY") &&
        qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    static int argc = 1;
    static char name[] = "kvscope";
    static char* argv[] = {name, nullptr};
    // Lives until the process ends (reachable through this static, so no leak
    // is reported); destroying it at exit would race other static destructors.
    static QApplication* app = new QApplication(argc, argv);
    (void)app;
}

ImageFormat format_from_path(const std::string& path, std::initializer_list<ImageFormat> allowed) {
    const QString suffix = QFileInfo(QString::fromStdString(path)).suffix().toLower();
    std::string supported;
    for (ImageFormat format : allowed) {
        if (suffix == extension_of(format)) return format;
        supported += supported.empty() ? "." : ", .";
        supported += extension_of(format).toStdString();
    }
    throw std::runtime_error("cannot tell the image format of " + path + ": supported extensions are " + supported);
}

void save_plot(QCustomPlot& plot, const std::string& path, ImageFormat format, int width, int height) {
    if (width <= 0 || height <= 0)
        throw std::runtime_error("cannot write " + path + ": image size " + std::to_string(width) + "x" +
                                 std::to_string(height) + " is not positive");
    // Lay the plot out for the size it is drawn at (a hidden widget's size
    // would otherwise be whatever it was created with).
    plot.resize(width, height);
    plot.setViewport(QRect(0, 0, width, height));

    QSaveFile file(QString::fromStdString(path));
    if (!file.open(QIODevice::WriteOnly)) throw std::runtime_error(write_error(path, file.errorString()));

    bool drawn = false;
    switch (format) {
        case ImageFormat::Png: {
            QImage image(width, height, QImage::Format_RGB32);
            image.fill(Qt::white);
            {
                QCPPainter painter(&image);
                plot.toPainter(&painter, width, height);
            }
            drawn = image.save(&file, "PNG");
            break;
        }
        case ImageFormat::Svg: {
            QSvgGenerator svg;
            svg.setOutputDevice(&file);
            svg.setSize(QSize(width, height));
            svg.setViewBox(QRect(0, 0, width, height));
            svg.setTitle(QStringLiteral("KVScope"));
            QCPPainter painter;
            if (painter.begin(&svg)) {
                painter.setMode(QCPPainter::pmVectorized);
                painter.setMode(QCPPainter::pmNoCaching);
                plot.toPainter(&painter, width, height);
                drawn = painter.end();
            }
            break;
        }
        case ImageFormat::Pdf: {
            QPdfWriter pdf(&file);
            pdf.setCreator(QStringLiteral("KVScope"));
            pdf.setResolution(72);  // one device unit = one point = one plot pixel
            pdf.setPageLayout(QPageLayout(QPageSize(QSizeF(width, height), QPageSize::Point, QString(),
                                                    QPageSize::ExactMatch),
                                          QPageLayout::Portrait, QMarginsF(0, 0, 0, 0)));
            QCPPainter painter;
            if (painter.begin(&pdf)) {
                painter.setMode(QCPPainter::pmVectorized);
                painter.setMode(QCPPainter::pmNoCaching);
                plot.toPainter(&painter, width, height);
                drawn = painter.end();
            }
            break;
        }
    }
    if (!drawn || file.error() != QFileDevice::NoError) {
        const QString reason = file.error() != QFileDevice::NoError ? file.errorString() : QStringLiteral("drawing failed");
        file.cancelWriting();
        throw std::runtime_error(write_error(path, reason));
    }
    if (!file.commit()) throw std::runtime_error(write_error(path, file.errorString()));
}

void save_image_png(const QImage& image, const std::string& path) {
    QSaveFile file(QString::fromStdString(path));
    if (!file.open(QIODevice::WriteOnly)) throw std::runtime_error(write_error(path, file.errorString()));
    if (image.isNull() || !image.save(&file, "PNG")) {
        const QString reason = file.error() != QFileDevice::NoError ? file.errorString() : QStringLiteral("encoding failed");
        file.cancelWriting();
        throw std::runtime_error(write_error(path, reason));
    }
    if (!file.commit()) throw std::runtime_error(write_error(path, file.errorString()));
}

void save_bytes(const QByteArray& bytes, const std::string& path) {
    QSaveFile file(QString::fromStdString(path));
    if (!file.open(QIODevice::WriteOnly)) throw std::runtime_error(write_error(path, file.errorString()));
    if (file.write(bytes) != bytes.size()) {
        const QString reason = file.errorString();
        file.cancelWriting();
        throw std::runtime_error(write_error(path, reason));
    }
    if (!file.commit()) throw std::runtime_error(write_error(path, file.errorString()));
}

}  // namespace kvscope::render
