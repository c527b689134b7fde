#pragma once
// Qt's offscreen platform wants a private runtime directory; without one it
// prints a warning on stderr, which would break the CLI's one-line error
// contract. Sets XDG_RUNTIME_DIR to /tmp/kvscope-runtime-UID when unset.
namespace kvscope::cli {

void ensure_runtime_dir();

}  // namespace kvscope::cli
