#include "tokenizer/special_tokens.h"

#include <algorithm>

namespace kvscope {

std::vector<SpecialToken> collect_special_tokens(const std::vector<std::string>& tokens, const std::vector<TokenAttr>& attrs) {
    std::vector<SpecialToken> specials;
    for (size_t i = 0; i < tokens.size(); ++i) {
        const TokenAttr a = attrs[i];
        if (a == TokenAttr::Control || a == TokenAttr::UserDefined || a == TokenAttr::Unknown)
            specials.push_back({static_cast<TokenId>(i), &tokens[i], a != TokenAttr::UserDefined});
    }
    std::stable_sort(specials.begin(), specials.end(),
                     [](const SpecialToken& a, const SpecialToken& b) { return a.text->size() > b.text->size(); });
    return specials;
}

std::vector<Fragment> partition_special(std::string_view text, const std::vector<SpecialToken>& specials, bool parse_special) {
    std::vector<Fragment> fragments;
    if (text.empty()) return fragments;
    fragments.push_back({-1, 0, text.size()});
    std::vector<Fragment> next;
    for (const SpecialToken& st : specials) {
        if (st.control_or_unknown && !parse_special) continue;
        const std::string_view needle = *st.text;
        next.clear();
        bool changed = false;
        for (const Fragment& f : fragments) {
            if (!f.is_text()) {
                next.push_back(f);
                continue;
            }
            const std::string_view body = text.substr(f.offset, f.length);
            size_t start = 0;
            for (size_t hit; (hit = body.find(needle, start)) != std::string_view::npos; start = hit + needle.size()) {
                if (hit > start) next.push_back({-1, f.offset + start, hit - start});
                next.push_back({st.id, 0, 0});
                changed = true;
            }
            if (start < body.size()) next.push_back({-1, f.offset + start, body.size() - start});
        }
        if (changed) fragments.swap(next);
    }
    return fragments;
}

}  // namespace kvscope
