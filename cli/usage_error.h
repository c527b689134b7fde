#pragma once
// A bad command line. main prints it as one line, "kvscope-cli COMMAND: message",
// and exits with 2 (a runtime failure exits with 1).
#include <stdexcept>

namespace kvscope::cli {

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace kvscope::cli
