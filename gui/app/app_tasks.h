#pragma once
// Batch tasks of the desktop app that need its real window:
//   --screenshot PATH  the main window mid-generation, saved as PNG (for docs/; run under Xvfb)
//   --bench            heatmap redraw times at 512/2,048/4,096 tokens and the frame rate while decoding
// Both load the model given on the command line (or the default one) and exit.
#include <QString>

namespace kvscope::gui {

struct TaskOptions {
    QString model;            // path of the GGUF
    QString prompt_file;      // optional prompt text file
    int steps = 48;           // tokens to generate before the screenshot / while measuring the frame rate
    int threads = 0;          // decoding threads (0: all cores but one)
    bool reference = true;    // run the full-cache reference alongside (the quality plot has data)
    bool full_cache = false;  // the full policy instead of sinks(4)+window(32)
    int context = 0;          // context length (0: the panel's default, 2,048)
    int layer = -1;           // the layer the heatmap shows in a screenshot (-1: the window's default)
};

int take_screenshot(const TaskOptions& options, const QString& path);
int run_gui_bench(const TaskOptions& options);

}  // namespace kvscope::gui
