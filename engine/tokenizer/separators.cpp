#include "tokenizer/separators.h"

namespace kvscope {

bool is_separator_piece(const std::string& piece) {
    bool has_mark = false;
    for (char c : piece) {
        switch (c) {
            case '.':
            case ',':
            case ';':
            case ':':
            case '!':
            case '?':
            case '\n':
            case '\r':
                has_mark = true;
                break;
            case ' ':
            case '\t': break;
            default: return false;
        }
    }
    return has_mark;
}

}  // namespace kvscope
