// ChatML, the template of SmolLM2-Instruct (tokenizer.chat_template):
//   {% if loop.first and messages[0]['role'] != 'system' %} default system turn {% endif %}
//   '<|im_start|>' + role + '\n' + content + '<|im_end|>' + '\n'   per message
//   '<|im_start|>assistant\n'                                       generation prompt
#include "tokenizer/tokenizer.h"

namespace kvscope {

std::string apply_chatml(const std::vector<ChatMessage>& messages, bool add_generation_prompt, const std::string& default_system) {
    std::string out;
    const auto turn = [&out](const std::string& role, const std::string& content) {
        out += "<|im_start|>";
        out += role;
        out += '\n';
        out += content;
        out += "<|im_end|>\n";
    };
    if (!messages.empty() && messages.front().role != "system") turn("system", default_system);
    for (const ChatMessage& m : messages) turn(m.role, m.content);
    if (add_generation_prompt) out += "<|im_start|>assistant\n";
    return out;
}

}  // namespace kvscope
