// dump_reference: produce llama.cpp reference fixtures for KVScope.
//
// Uses only llama.cpp's public C API (include/llama.h). Loads a GGUF on the
// CPU, tokenizes a prompt (add_special=true, parse_special=true), decodes the
// whole prompt as ONE batch (logits for the last token only), then greedily
// decodes a fixed number of tokens one at a time (argmax of the raw logits,
// ties -> lowest token id), never stopping at EOS. For every step it records
// the chosen token, its piece, the top-k (id, logit) and the top-1/top-2 gap,
// and writes everything as one JSON document.
//
// Usage:
//   dump_reference --model M.gguf --prompt-file P.txt --name NAME --out OUT.json
//                  [--chat] [--threads 2] [--n-predict 64] [--ctx 2048]
//                  [--top-k 10] [--kv-type f16|f32|q8_0] [--ubatch N] [--no-repack]
//                  [--commit SHA] [--verbose]

#include "llama.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <numeric>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#ifndef KVS_LLAMA_COMMIT
#define KVS_LLAMA_COMMIT "unknown"
#endif

using json = nlohmann::ordered_json;

namespace {

struct Args {
    std::string model, prompt_file, name, out, commit = KVS_LLAMA_COMMIT, kv_type = "f16";
    bool chat = false, verbose = false, no_repack = false;
    int threads = 2, n_predict = 64, n_ctx = 2048, top_k = 10, n_ubatch = 0;  // 0 -> = n_ctx
};

[[noreturn]] void usage(const char *msg) {
    std::fprintf(stderr, "dump_reference: %s\n(see the header of dump_reference.cpp for usage)\n", msg);
    std::exit(2);
}

Args parse_args(int argc, char **argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string k = argv[i];
        auto val = [&]() -> std::string {
            if (i + 1 >= argc) usage(("missing value for " + k).c_str());
            return argv[++i];
        };
        if (k == "--model") a.model = val();
        else if (k == "--prompt-file") a.prompt_file = val();
        else if (k == "--name") a.name = val();
        else if (k == "--out") a.out = val();
        else if (k == "--commit") a.commit = val();
        else if (k == "--kv-type") a.kv_type = val();
        else if (k == "--threads") a.threads = std::stoi(val());
        else if (k == "--n-predict") a.n_predict = std::stoi(val());
        else if (k == "--ctx") a.n_ctx = std::stoi(val());
        else if (k == "--top-k") a.top_k = std::stoi(val());
        else if (k == "--ubatch") a.n_ubatch = std::stoi(val());
        else if (k == "--no-repack") a.no_repack = true;
        else if (k == "--chat") a.chat = true;
        else if (k == "--verbose") a.verbose = true;
        else usage(("unknown argument " + k).c_str());
    }
    if (a.model.empty() || a.prompt_file.empty() || a.name.empty() || a.out.empty())
        usage("--model, --prompt-file, --name and --out are required");
    if (a.threads < 1 || a.n_predict < 1 || a.n_ctx < 1 || a.top_k < 2) usage("bad numeric argument");
    if (a.n_ubatch == 0) a.n_ubatch = a.n_ctx;
    return a;
}

ggml_type kv_type_from(const std::string &s) {
    if (s == "f16") return GGML_TYPE_F16;
    if (s == "f32") return GGML_TYPE_F32;
    if (s == "q8_0") return GGML_TYPE_Q8_0;
    usage(("unsupported --kv-type " + s).c_str());
}

std::string read_file(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) usage(("cannot read " + path).c_str());
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::string piece_of(const llama_vocab *vocab, llama_token t) {
    std::vector<char> buf(64);
    int n = llama_token_to_piece(vocab, t, buf.data(), (int)buf.size(), 0, /*special=*/true);
    if (n < 0) {
        buf.resize((size_t)-n);
        n = llama_token_to_piece(vocab, t, buf.data(), (int)buf.size(), 0, true);
    }
    return std::string(buf.data(), (size_t)std::max(n, 0));
}

std::string hex_of(const std::string &s) {
    static const char *d = "0123456789abcdef";
    std::string h;
    for (unsigned char c : s) { h += d[c >> 4]; h += d[c & 15]; }
    return h;
}

// Machine description from /proc/cpuinfo (model name + SIMD flags that matter).
json machine_info() {
    json m;
    std::ifstream f("/proc/cpuinfo");
    std::string line, model = "unknown";
    std::set<std::string> flags;
    int ncpu = 0;
    while (std::getline(f, line)) {
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string key = line.substr(0, colon);
        key.erase(key.find_last_not_of(" \t") + 1);
        std::string v = colon + 1 < line.size() ? line.substr(colon + 2) : "";
        if (key == "processor") ++ncpu;
        else if (key == "model name" && model == "unknown") model = v;
        else if (key == "flags" && flags.empty()) {
            std::istringstream fs(v);
            std::string fl;
            while (fs >> fl)
                if (fl == "avx" || fl == "avx2" || fl == "fma" || fl == "f16c" || fl.rfind("avx512", 0) == 0 ||
                    fl == "avx_vnni")
                    flags.insert(fl);
        }
    }
    m["cpu_model_name"] = model;
    m["logical_cpus"] = ncpu;
    m["simd_flags"] = std::vector<std::string>(flags.begin(), flags.end());
    m["avx2"] = flags.count("avx2") > 0;
    m["avx512f"] = flags.count("avx512f") > 0;
    m["llama_system_info"] = llama_print_system_info();
    return m;
}

std::string utc_now() {
    std::time_t t = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    return buf;
}

bool g_verbose = false;
void log_cb(ggml_log_level level, const char *text, void *) {
    if (g_verbose || level == GGML_LOG_LEVEL_ERROR || level == GGML_LOG_LEVEL_WARN) std::fputs(text, stderr);
}

}  // namespace

int main(int argc, char **argv) {
    Args a = parse_args(argc, argv);
    g_verbose = a.verbose;
    llama_log_set(log_cb, nullptr);

    std::string command;
    for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);

    const std::string prompt = read_file(a.prompt_file);

    llama_backend_init();

    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;  // CPU only
    if (a.no_repack) {
#if KVS_HAS_EXTRA_BUFTS
        // Newer llama.cpp repacks Q4_0/Q4_K/IQ4_NL weights at load for its own
        // gemm/gemv kernels, which sum in another order than ggml_vec_dot_*.
        mp.use_extra_bufts = false;
#else
        usage("--no-repack: this llama.cpp has no use_extra_bufts (it does not repack)");
#endif
    }
    llama_model *model = llama_model_load_from_file(a.model.c_str(), mp);
    if (!model) { std::fprintf(stderr, "failed to load %s\n", a.model.c_str()); return 1; }
    const llama_vocab *vocab = llama_model_get_vocab(model);
    const int n_vocab = llama_vocab_n_tokens(vocab);

    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (uint32_t)a.n_ctx;
    cp.n_batch = (uint32_t)a.n_ctx;            // whole prompt in one llama_decode call ...
    cp.n_ubatch = (uint32_t)a.n_ubatch;        // ... and (by default) one physical ubatch
    cp.n_threads = a.threads;
    cp.n_threads_batch = a.threads;
    cp.type_k = kv_type_from(a.kv_type);
    cp.type_v = kv_type_from(a.kv_type);
    cp.flash_attn = false;                     // the default at this commit
    cp.offload_kqv = false;
    cp.no_perf = true;
    llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) { std::fprintf(stderr, "failed to create context\n"); return 1; }

    // Tokenize: add_special=true, parse_special=true.
    int n_prompt = -llama_tokenize(vocab, prompt.data(), (int32_t)prompt.size(), nullptr, 0, true, true);
    std::vector<llama_token> toks((size_t)std::max(n_prompt, 1));
    n_prompt = llama_tokenize(vocab, prompt.data(), (int32_t)prompt.size(), toks.data(), (int32_t)toks.size(), true, true);
    if (n_prompt <= 0) { std::fprintf(stderr, "tokenization failed (%d)\n", n_prompt); return 1; }
    toks.resize((size_t)n_prompt);
    if (n_prompt + a.n_predict > a.n_ctx) { std::fprintf(stderr, "prompt + n_predict exceeds context\n"); return 1; }

    // Prompt: one batch, logits only for the last token.
    {
        llama_batch b = llama_batch_init(n_prompt, 0, 1);
        for (int i = 0; i < n_prompt; ++i) {
            b.token[i] = toks[(size_t)i];
            b.pos[i] = i;
            b.n_seq_id[i] = 1;
            b.seq_id[i][0] = 0;
            b.logits[i] = (i == n_prompt - 1);
        }
        b.n_tokens = n_prompt;
        if (llama_decode(ctx, b) != 0) { std::fprintf(stderr, "prompt decode failed\n"); return 1; }
        llama_batch_free(b);
    }

    const llama_token eos = llama_vocab_eos(vocab);
    json steps = json::array();
    std::vector<llama_token> gen;
    std::string gen_text;
    int first_eos = -1, first_eog = -1;
    double min_gap = INFINITY;
    int min_gap_step = -1;
    std::vector<int> idx((size_t)n_vocab);

    llama_batch one = llama_batch_init(1, 0, 1);
    for (int step = 0; step < a.n_predict; ++step) {
        const float *logits = llama_get_logits_ith(ctx, -1);
        if (!logits) { std::fprintf(stderr, "no logits at step %d\n", step); return 1; }
        std::iota(idx.begin(), idx.end(), 0);
        auto better = [&](int x, int y) { return logits[x] > logits[y] || (logits[x] == logits[y] && x < y); };
        std::partial_sort(idx.begin(), idx.begin() + a.top_k, idx.end(), better);
        const llama_token tok = idx[0];
        bool finite = true;
        for (int i = 0; i < n_vocab; ++i) finite = finite && std::isfinite(logits[i]);

        json top = json::array();
        for (int i = 0; i < a.top_k; ++i) top.push_back({idx[(size_t)i], (double)logits[idx[(size_t)i]]});
        const double gap = (double)logits[idx[0]] - (double)logits[idx[1]];
        if (gap < min_gap) { min_gap = gap; min_gap_step = step; }

        const std::string piece = piece_of(vocab, tok);
        if (tok == eos && first_eos < 0) first_eos = step;
        if (llama_vocab_is_eog(vocab, tok) && first_eog < 0) first_eog = step;
        gen.push_back(tok);
        gen_text += piece;

        json s;
        s["step"] = step;
        s["pos"] = n_prompt + step;  // position the chosen token will occupy
        s["token"] = tok;
        s["piece"] = piece;
        s["piece_hex"] = hex_of(piece);
        s["gap_top1_top2"] = gap;
        s["all_logits_finite"] = finite;
        s["top"] = top;
        steps.push_back(s);

        if (step + 1 == a.n_predict) break;  // last token need not be decoded
        one.token[0] = tok;
        one.pos[0] = n_prompt + step;
        one.n_seq_id[0] = 1;
        one.seq_id[0][0] = 0;
        one.logits[0] = 1;
        one.n_tokens = 1;
        if (llama_decode(ctx, one) != 0) { std::fprintf(stderr, "decode failed at step %d\n", step); return 1; }
    }
    llama_batch_free(one);

    json prompt_pieces = json::array();
    for (llama_token t : toks) prompt_pieces.push_back(piece_of(vocab, t));

    json j;
    j["name"] = a.name;
    j["chat_formatted"] = a.chat;
    j["prompt_text"] = prompt;
    j["n_prompt_tokens"] = n_prompt;
    j["prompt_ids"] = toks;
    j["prompt_pieces"] = prompt_pieces;
    j["n_predict"] = a.n_predict;
    j["generated_ids"] = gen;
    j["generated_text"] = gen_text;
    j["eos_token"] = eos;
    j["first_eos_step"] = first_eos < 0 ? json(nullptr) : json(first_eos);
    j["first_eog_step"] = first_eog < 0 ? json(nullptr) : json(first_eog);
    j["min_gap_top1_top2"] = min_gap;
    j["min_gap_step"] = min_gap_step;
    j["top_k"] = a.top_k;
    j["steps"] = steps;
    json meta;
    meta["generator"] = "tools/llamacpp-reference/dump_reference.cpp";
    meta["llama_cpp_commit"] = a.commit;
    meta["command"] = command;
    meta["date_utc"] = utc_now();
    meta["model_file"] = a.model.substr(a.model.find_last_of('/') + 1);
    meta["n_vocab"] = n_vocab;
    meta["n_threads"] = a.threads;
    meta["n_threads_batch"] = a.threads;
    meta["n_ctx"] = a.n_ctx;
    meta["n_batch"] = a.n_ctx;
    meta["n_ubatch"] = a.n_ubatch;
    meta["kv_type_k"] = a.kv_type;
    meta["kv_type_v"] = a.kv_type;
    meta["flash_attn"] = false;
    meta["weight_repack"] = !a.no_repack;
    meta["n_gpu_layers"] = 0;
    meta["tokenize_add_special"] = true;
    meta["tokenize_parse_special"] = true;
    meta["sampling"] = "greedy argmax of raw logits (ties -> lowest id); does not stop at EOS";
    meta["prompt_logits"] = "prompt decoded as one llama_decode batch, logits requested for the last token only";
    meta["machine"] = machine_info();
    j["meta"] = meta;

    // Compact but diff-friendly layout: one top-level key per line, one step per line.
    std::ofstream out(a.out, std::ios::binary);
    const auto dump = [](const json &v, int indent) { return v.dump(indent, ' ', false, json::error_handler_t::replace); };
    out << "{\n";
    for (auto it = j.begin(); it != j.end(); ++it) {
        out << (it == j.begin() ? "" : ",\n") << " " << dump(json(it.key()), -1) << ": ";
        if (it.key() == "steps") {
            out << "[\n";
            for (size_t i = 0; i < it->size(); ++i) out << (i ? ",\n" : "") << "  " << dump((*it)[i], -1);
            out << "\n ]";
        } else {
            out << dump(*it, it.key() == "meta" ? 1 : -1);
        }
    }
    out << "\n}\n";
    if (!out) { std::fprintf(stderr, "failed to write %s\n", a.out.c_str()); return 1; }

    std::fprintf(stderr, "%s: %d prompt tokens, %d generated, first EOS step %d, min gap %.4f at step %d -> %s\n",
                 a.name.c_str(), n_prompt, a.n_predict, first_eos, min_gap, min_gap_step, a.out.c_str());

    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
