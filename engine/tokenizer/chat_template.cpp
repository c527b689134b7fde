// The chat formats KVScope writes. ChatML, the template of SmolLM2-Instruct (tokenizer.chat_template):
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

std::string apply_gemma_chat(const std::vector<ChatMessage>& messages, bool add_generation_prompt) {
    std::string out, system;
    for (const ChatMessage& m : messages) {
        if (m.role == "system") {
            system = m.content;
            continue;
        }
        const std::string role = m.role == "assistant" ? "model" : m.role;
        out += "<start_of_turn>" + role + "\n";
        if (!system.empty() && role == "user") out += system + "\n\n";
        system.clear();
        out += m.content + "<end_of_turn>\n";
    }
    if (add_generation_prompt) out += "<start_of_turn>model\n";
    return out;
}

ChatFormat chat_format_for(const std::string& architecture) {
    return architecture == "gemma3" ? ChatFormat::Gemma : ChatFormat::ChatML;
}

std::string apply_chat(ChatFormat format, const std::vector<ChatMessage>& messages, bool add_generation_prompt) {
    return format == ChatFormat::Gemma ? apply_gemma_chat(messages, add_generation_prompt)
                                       : apply_chatml(messages, add_generation_prompt);
}

}  // namespace kvscope
