#pragma once
// Separator tokens, as SepLLM (Chen et al. 2024) pins them: a token whose text
// is only punctuation that ends a clause or sentence and whitespace, with at
// least one such mark or a line break: ".", ",", ";", ":", "!", "?", "\n",
// ".\n", " ," ... (SepLLM's list: . , ? ! ; : and the whitespace tokens; a
// bare space is left out here: in byte-level BPE vocabularies it rides on the
// next word's token instead of standing alone.)
#include <string>

namespace kvscope {

bool is_separator_piece(const std::string& piece);

}  // namespace kvscope
