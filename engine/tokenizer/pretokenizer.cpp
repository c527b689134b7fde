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
    {"deepseek-coder", PreTokenizer::DeepSeekCoder},
    {"deepseek-llm", PreTokenizer::DeepSeekLlm},
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

Pieces split_each_newline(const std::vector<uint32_t>& cps, const Pieces& in) {
    return split_class(cps, in, [](uint32_t c) { return c == '\r' || c == '\n'; }, true);
}

namespace {

// \s?X+ for the class `in_run`.
template <class Pred>
Pieces space_then_run(const std::vector<uint32_t>& cps, const Pieces& in, Pred in_run) {
    return for_each_piece(cps, in, [&](PieceWalker& w, size_t begin, size_t end) {
        size_t pos = begin;
        while (pos < end) {
            // \s? then the run: a whitespace joins the run it stands right before.
            const bool space_first = (w.flags(pos) & unicode::kWhitespace) && pos + 1 < end && in_run(cps[pos + 1]);
            if (space_first || in_run(cps[pos])) {
                w.emit(pos);
                pos += space_first ? 2 : 1;
                while (pos < end && in_run(cps[pos])) ++pos;
                w.emit(pos);
            } else {
                ++pos;
            }
        }
        w.emit(end);
    });
}

struct CodePointRange {
    uint32_t first, last;
};

bool in_ranges(const CodePointRange* ranges, size_t n, uint32_t c) {
    for (size_t i = 0; i < n; ++i)
        if (c >= ranges[i].first && c <= ranges[i].last) return true;
    return false;
}

// The letter class of DeepSeek LLM's pre-tokenizer pattern (its tokenizer.json,
// as llama.cpp applies it: "\s?[A-Za-zµÀ-ÖØ-öø-ƺ...𞤀-𞥃]+"), as code point ranges.
constexpr CodePointRange kDeepSeekLetters[] = {
    {0x0041, 0x005A}, {0x0061, 0x007A}, {0x00B5, 0x00B5}, {0x00C0, 0x00D6}, {0x00D8, 0x00F6}, {0x00F8, 0x01BA},
    {0x01BC, 0x01BF}, {0x01C4, 0x0293}, {0x0295, 0x02AF}, {0x0370, 0x0373}, {0x0376, 0x0377}, {0x037B, 0x037D},
    {0x037F, 0x037F}, {0x0386, 0x0386}, {0x0388, 0x038A}, {0x038C, 0x038C}, {0x038E, 0x03A1}, {0x03A3, 0x03F5},
    {0x03F7, 0x0481}, {0x048A, 0x052F}, {0x0531, 0x0556}, {0x10A0, 0x10C5}, {0x13A0, 0x13F5}, {0x13F8, 0x13FD},
    {0x1C90, 0x1CBA}, {0x1CBD, 0x1CBF}, {0x1D00, 0x1D2B}, {0x1D6B, 0x1D77}, {0x1D79, 0x1D9A}, {0x1E00, 0x1F15},
    {0x1F18, 0x1F1D}, {0x1F20, 0x1F45}, {0x1F48, 0x1F4D}, {0x1F50, 0x1F57}, {0x1F59, 0x1F59}, {0x1F5B, 0x1F5B},
    {0x1F5D, 0x1F5D}, {0x1F5F, 0x1F7D}, {0x1F80, 0x1FB4}, {0x1FB6, 0x1FBC}, {0x1FBE, 0x1FBE}, {0x1FC2, 0x1FC4},
    {0x1FC6, 0x1FCC}, {0x1FD0, 0x1FD3}, {0x1FD6, 0x1FDB}, {0x1FE0, 0x1FEC}, {0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFC},
    {0x2102, 0x2102}, {0x2107, 0x2107}, {0x210A, 0x2113}, {0x2115, 0x2115}, {0x2119, 0x211D}, {0x2124, 0x2124},
    {0x2126, 0x2126}, {0x2128, 0x2128}, {0x212A, 0x212D}, {0x212F, 0x2134}, {0x2139, 0x2139}, {0x213C, 0x213F},
    {0x2145, 0x2149}, {0x214E, 0x214E}, {0x2183, 0x2184}, {0x2C00, 0x2C7B}, {0x2C7E, 0x2CE4}, {0x2CEB, 0x2CEE},
    {0x2CF2, 0x2CF3}, {0xA640, 0xA66D}, {0xA680, 0xA69B}, {0xA722, 0xA76F}, {0xA771, 0xA787}, {0xA78B, 0xA78E},
    {0xAB70, 0xABBF}, {0xFB00, 0xFB06}, {0xFB13, 0xFB17}, {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A}, {0x10400, 0x1044F},
    {0x104B0, 0x104D3}, {0x104D8, 0x104FB}, {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF},
    {0x1E900, 0x1E943},
};
// Its punctuation class "\s?[!-/:-~！-／：-～‘-‟　-。]+".
constexpr CodePointRange kDeepSeekPunctuation[] = {
    {0x0021, 0x002F}, {0x003A, 0x007E}, {0xFF01, 0xFF0F}, {0xFF1A, 0xFF5E}, {0x2018, 0x201F}, {0x3000, 0x3002},
};

}  // namespace

Pieces split_space_then_run(const std::vector<uint32_t>& cps, const Pieces& in, uint16_t run_flags) {
    return space_then_run(cps, in, [run_flags](uint32_t c) { return (cp_flags(c) & run_flags) != 0; });
}

Pieces split_deepseek_llm_words(const std::vector<uint32_t>& cps, const Pieces& in) {
    Pieces out = space_then_run(cps, in, [](uint32_t c) {
        return in_ranges(kDeepSeekLetters, std::size(kDeepSeekLetters), c);
    });
    return space_then_run(cps, out, [](uint32_t c) {
        return in_ranges(kDeepSeekPunctuation, std::size(kDeepSeekPunctuation), c);
    });
}

Pieces split_trailing_space(const std::vector<uint32_t>& cps, const Pieces& in) {
    return for_each_piece(cps, in, [&](PieceWalker& w, size_t begin, size_t end) {
        size_t first = end;  // \s+$: the whitespace run that ends the piece
        while (first > begin && (cp_flags(cps[first - 1]) & unicode::kWhitespace)) --first;
        w.emit(first);
        w.emit(end);
    });
}

Pieces split_cjk_hangul_runs(const std::vector<uint32_t>& cps, const Pieces& in) {
    // [一-龥ࠀ-一가-퟿]: U+4E00–U+9FA5, U+0800–U+4E00, U+AC00–U+D7FF, compared by code point.
    return split_class(cps, in, [](uint32_t c) { return (c >= 0x0800 && c <= 0x9FA5) || (c >= 0xAC00 && c <= 0xD7FF); },
                       false);
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
        case PreTokenizer::DeepSeekCoder:
            pieces = pretok::split_each_newline(cps, pieces);
            pieces = pretok::split_space_then_run(cps, pieces, unicode::kLetter);
            pieces = pretok::split_space_then_run(cps, pieces, unicode::kPunctuation);
            pieces = pretok::split_cjk_hangul_runs(cps, pieces);
            pieces = pretok::split_each_number(cps, pieces);
            break;
        case PreTokenizer::DeepSeekLlm:
            pieces = pretok::split_each_newline(cps, pieces);
            pieces = pretok::split_deepseek_llm_words(cps, pieces);
            pieces = pretok::split_trailing_space(cps, pieces);
            pieces = pretok::split_cjk_hangul_runs(cps, pieces);
            pieces = pretok::split_number_runs(cps, pieces);
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
