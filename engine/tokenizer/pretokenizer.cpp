// Hand-written matchers for the pre-tokenizer regexes of pretokenizer.h.
// Each matcher walks one piece at a time and reproduces the leftmost-first
// alternation of its regex; the comments name the alternative being matched.
#include "tokenizer/pretokenizer.h"

#include <cstring>

#include "tokenizer/unicode_tables.h"
#include "tokenizer/utf8.h"
#include "util/error.h"

namespace kvscope {

namespace {

struct NamedPre {
    const char* name;
    PreTokenizer kind;
};
// The tokenizer.ggml.pre values llama.cpp maps to the patterns we implement.
constexpr NamedPre kPreNames[] = {
    {"default", PreTokenizer::Default},
    {"gpt-2", PreTokenizer::Gpt2},
    {"gpt2", PreTokenizer::Gpt2},
    {"mpt", PreTokenizer::Gpt2},  // llama.cpp gives MPT gpt2's pattern
    {"falcon", PreTokenizer::Falcon},
    {"smollm", PreTokenizer::DigitsThenGpt2},
    {"starcoder", PreTokenizer::DigitsThenGpt2},
    {"refact", PreTokenizer::DigitsThenGpt2},
    {"command-r", PreTokenizer::DigitsThenGpt2},
    {"llama3", PreTokenizer::Llama3},
    {"llama-v3", PreTokenizer::Llama3},
    {"llama-bpe", PreTokenizer::Llama3},
    {"qwen2", PreTokenizer::Qwen2},
};

}  // namespace

std::string supported_pre_tokenizer_names() {
    std::string names;
    for (const auto& p : kPreNames) {
        if (!names.empty()) names += ", ";
        names += p.name;
    }
    return names;
}

PreTokenizer pre_tokenizer_from_name(const std::string& pre) {
    if (pre.empty()) return PreTokenizer::Default;  // llama.cpp: missing means "default"
    for (const auto& p : kPreNames)
        if (pre == p.name) return p.kind;
    throw Error("unsupported pre-tokenizer '" + pre + "' (tokenizer.ggml.pre); supported: " + supported_pre_tokenizer_names());
}

namespace pretok {

namespace {

using unicode::cp_flags;
constexpr uint16_t kLNW = unicode::kLetter | unicode::kNumber | unicode::kWhitespace;
constexpr uint32_t kOutside = 0xFFFFFFFF;

// A view of one piece: code points and flags outside [begin, end) read as
// kOutside / 0, so lookahead never crosses the piece boundary.
class PieceWalker {
public:
    PieceWalker(const std::vector<uint32_t>& cps, size_t begin, size_t end, Pieces& out)
        : cps_(cps), begin_(begin), end_(end), last_(begin), out_(out) {}

    uint32_t cp(size_t pos) const { return inside(pos) ? cps_[pos] : kOutside; }
    uint16_t flags(size_t pos) const { return inside(pos) ? cp_flags(cps_[pos]) : 0; }
    bool inside(size_t pos) const { return pos >= begin_ && pos < end_; }
    size_t end() const { return end_; }

    // Closes the current word at `pos` (empty words are dropped).
    void emit(size_t pos) {
        if (pos > last_) out_.push_back(pos - last_);
        last_ = pos;
    }

private:
    const std::vector<uint32_t>& cps_;
    size_t begin_, end_, last_;
    Pieces& out_;
};

// Runs the matcher `fn(walker, begin, end)` over every piece of `in`.
template <class Fn>
Pieces for_each_piece(const std::vector<uint32_t>& cps, const Pieces& in, Fn fn) {
    Pieces out;
    out.reserve(in.size());
    size_t begin = 0;
    for (size_t len : in) {
        PieceWalker w(cps, begin, begin + len, out);
        fn(w, begin, begin + len);
        begin += len;
    }
    return out;
}

// 's|'t|'re|'ve|'m|'ll|'d at pos: the length matched (0 if none). With
// `fold_case` the letters match in either case ((?i:...) in llama3).
size_t match_contraction(const PieceWalker& w, size_t pos, bool fold_case) {
    if (w.cp(pos) != '\'' || !w.inside(pos + 1)) return 0;
    const auto lower = [&](uint32_t c) { return fold_case ? unicode::to_lower(c) : c; };
    const uint32_t c1 = lower(w.cp(pos + 1));
    if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
    if (!w.inside(pos + 2)) return 0;
    const uint32_t c2 = lower(w.cp(pos + 2));
    if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
    return 0;
}

// Splits every piece into maximal runs of code points that do / do not
// satisfy `pred`. With `single`, matching code points stand alone instead.
template <class Pred>
Pieces split_class(const std::vector<uint32_t>& cps, const Pieces& in, Pred pred, bool single) {
    return for_each_piece(cps, in, [&](PieceWalker& w, size_t begin, size_t end) {
        size_t pos = begin;
        while (pos < end) {
            if (pred(cps[pos])) {
                w.emit(pos);  // the gap before the match
                ++pos;
                while (!single && pos < end && pred(cps[pos])) ++pos;
                w.emit(pos);
            } else {
                ++pos;
            }
        }
        w.emit(end);
    });
}

}  // namespace

Pieces split_gpt2(const std::vector<uint32_t>& cps, const Pieces& in) {
    return for_each_piece(cps, in, [](PieceWalker& w, size_t begin, size_t end) {
        size_t pos = begin;
        while (pos < end) {
            const uint32_t cp = w.cp(pos);
            if (size_t n = match_contraction(w, pos, false)) {
                pos += n;
                w.emit(pos);
                continue;
            }
            // " ?X+" alternatives: an optional leading space, then a run of one class.
            const bool space = (cp == ' ');
            uint16_t f = w.flags(space ? pos + 1 : pos);
            if (f & unicode::kLetter) {  // ?\p{L}+
                pos += space;
                while (w.flags(pos) & unicode::kLetter) ++pos;
                w.emit(pos);
                continue;
            }
            if (f & unicode::kNumber) {  // ?\p{N}+
                pos += space;
                while (w.flags(pos) & unicode::kNumber) ++pos;
                w.emit(pos);
                continue;
            }
            if (!(f & kLNW) && f != 0) {  // ?[^\s\p{L}\p{N}]+
                pos += space;
                for (f = w.flags(pos); !(f & kLNW) && f != 0; f = w.flags(pos)) ++pos;
                w.emit(pos);
                continue;
            }
            size_t n_ws = 0;
            while (w.flags(pos + n_ws) & unicode::kWhitespace) ++n_ws;
            if (n_ws > 1 && w.inside(pos + n_ws)) {  // \s+(?!\S): leave the last space to the next word
                pos += n_ws - 1;
                w.emit(pos);
                continue;
            }
            if (n_ws > 0) {  // \s+ at the end of the piece
                pos += n_ws;
                w.emit(pos);
                continue;
            }
            w.emit(++pos);  // nothing matched: the code point stands alone
        }
        w.emit(end);
    });
}

Pieces split_llama3(const std::vector<uint32_t>& cps, const Pieces& in, size_t max_digits) {
    return for_each_piece(cps, in, [max_digits](PieceWalker& w, size_t begin, size_t end) {
        size_t pos = begin;
        while (pos < end) {
            const uint32_t cp = w.cp(pos);
            const uint16_t f = w.flags(pos);
            if (size_t n = match_contraction(w, pos, true)) {  // (?i:'s|'t|'re|'ve|'m|'ll|'d)
                pos += n;
                w.emit(pos);
                continue;
            }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if (!(cp == '\r' || cp == '\n' || (f & unicode::kNumber)) &&
                ((f & unicode::kLetter) || (w.flags(pos + 1) & unicode::kLetter))) {
                ++pos;
                while (w.flags(pos) & unicode::kLetter) ++pos;
                w.emit(pos);
                continue;
            }
            if (f & unicode::kNumber) {  // \p{N}{1,3} (llama3) or \p{N} (qwen2), repeatedly
                size_t group = pos;
                while (w.flags(pos) & unicode::kNumber) {
                    if (++pos - group >= max_digits) {
                        w.emit(pos);
                        group = pos;
                    }
                }
                w.emit(pos);
                continue;
            }
            // ?[^\s\p{L}\p{N}]+[\r\n]*  (llama.cpp tests the current code point's
            // flags for "non-empty", so a lone trailing space also lands here)
            uint16_t f2 = w.flags(cp == ' ' ? pos + 1 : pos);
            if (!(f2 & kLNW) && f != 0) {
                pos += (cp == ' ');
                while (!(f2 & kLNW) && f2 != 0) f2 = w.flags(++pos);
                while (w.cp(pos) == '\r' || w.cp(pos) == '\n') ++pos;
                w.emit(pos);
                continue;
            }
            size_t n_ws = 0, after_last_newline = 0;
            while (w.flags(pos + n_ws) & unicode::kWhitespace) {
                const uint32_t c = w.cp(pos + n_ws);
                if (c == '\r' || c == '\n') after_last_newline = pos + n_ws + 1;
                ++n_ws;
            }
            if (after_last_newline > 0) {  // \s*[\r\n]+
                pos = after_last_newline;
                w.emit(pos);
                continue;
            }
            if (n_ws > 1 && w.inside(pos + n_ws)) {  // \s+(?!\S)
                pos += n_ws - 1;
                w.emit(pos);
                continue;
            }
            if (n_ws > 0) {  // \s+
                pos += n_ws;
                w.emit(pos);
                continue;
            }
            w.emit(++pos);
        }
        w.emit(end);
    });
}

Pieces split_each_number(const std::vector<uint32_t>& cps, const Pieces& in) {
    return split_class(cps, in, [](uint32_t c) { return (cp_flags(c) & unicode::kNumber) != 0; }, true);
}

Pieces split_number_runs(const std::vector<uint32_t>& cps, const Pieces& in) {
    return split_class(cps, in, [](uint32_t c) { return (cp_flags(c) & unicode::kNumber) != 0; }, false);
}

Pieces split_punctuation_runs(const std::vector<uint32_t>& cps, const Pieces& in, bool with_backtick) {
    const char* symbols = with_backtick ? "$+<=>^~|`" : "$+<=>^~|";
    return split_class(cps, in, [symbols](uint32_t c) {
        return (cp_flags(c) & unicode::kPunctuation) != 0 || (c < 0x80 && c != 0 && std::strchr(symbols, static_cast<int>(c)));
    }, false);
}

Pieces split_ascii_digit_triples(const std::vector<uint32_t>& cps, const Pieces& in) {
    const auto digit = [&](size_t i) { return cps[i] >= '0' && cps[i] <= '9'; };
    return for_each_piece(cps, in, [&](PieceWalker& w, size_t begin, size_t end) {
        size_t pos = begin;
        while (pos + 3 <= end) {
            if (digit(pos) && digit(pos + 1) && digit(pos + 2)) {
                w.emit(pos);
                pos += 3;
                w.emit(pos);
            } else {
                ++pos;
            }
        }
        w.emit(end);
    });
}

}  // namespace pretok

std::vector<std::string> pre_tokenize(PreTokenizer kind, std::string_view text) {
    const std::vector<uint32_t> cps = utf8::decode(text);
    pretok::Pieces pieces{cps.size()};
    switch (kind) {
        case PreTokenizer::Default:
            pieces = pretok::split_punctuation_runs(cps, pieces);
            pieces = pretok::split_gpt2(cps, pieces);
            pieces = pretok::split_number_runs(cps, pieces);
            pieces = pretok::split_ascii_digit_triples(cps, pieces);
            break;
        case PreTokenizer::Gpt2:
            pieces = pretok::split_gpt2(cps, pieces);
            break;
        case PreTokenizer::Falcon:
            pieces = pretok::split_punctuation_runs(cps, pieces, true);
            pieces = pretok::split_gpt2(cps, pieces);
            pieces = pretok::split_ascii_digit_triples(cps, pieces);
            break;
        case PreTokenizer::DigitsThenGpt2:
            pieces = pretok::split_each_number(cps, pieces);
            pieces = pretok::split_gpt2(cps, pieces);
            break;
        case PreTokenizer::Llama3:
            pieces = pretok::split_llama3(cps, pieces, 3);
            break;
        case PreTokenizer::Qwen2:
            pieces = pretok::split_llama3(cps, pieces, 1);
            break;
    }
    std::vector<std::string> words;
    words.reserve(pieces.size());
    size_t begin = 0;
    for (size_t len : pieces) {
        std::string word;
        for (size_t i = begin; i < begin + len; ++i) utf8::append(word, cps[i]);
        if (!word.empty()) words.push_back(std::move(word));
        begin += len;
    }
    return words;
}

}  // namespace kvscope
