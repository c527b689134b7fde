// kvscope-cli: the engine without a display, for batch work.
// Exit codes: 0 ok, 1 runtime error, 2 usage error; errors are one line on stderr.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "args.h"
#include "commands.h"
#include "util/error.h"

namespace {

const char* kUsage =
    "usage: kvscope-cli COMMAND [MODEL] [options]\n"
    "\n"
    "commands:\n"
    "  info [MODEL]                 architecture, hyperparameters, tensor types, tokenizer\n"
    "  tokenize [MODEL] -p TEXT     token ids and pieces (--prompt-file F, --chat, --no-special, --ids)\n"
    "  generate [MODEL] -p TEXT     decode token by token (--prompt-file F, --chat, --system S, -n N,\n"
    "                               --temp T, --top-k K, --top-p P, --seed S, --threads N, --ctx N,\n"
    "                               --top N (candidates reported), --json: one JSON object per step,\n"
    "                               policy flags (--policy, --window, --sinks, --pin, --pin-every, --h2o H,R,\n"
    "                               --layer-pattern full:K, --dynamic-window SPEC, --kv-type, --positions),\n"
    "                               --reference: compare with a full cache step by step,\n"
    "                               --trace PREFIX [--trace-budget MiB]: save every step (JSON + attention))\n"
    "  bench [MODEL]                prefill and decode tokens/s, peak RSS (-p N, -n N, -r RUNS, --threads N, --json,\n"
    "                               --capture, --cache-views, --reference, policy flags)\n"
    "  heatmap [MODEL] -p TEXT      attention heatmap of a run: --layer L --head H|mean|max --out F.png|.svg|.pdf\n"
    "                               --csv F.csv, -n N, --log, --width/--height, policy flags\n"

    "  ppl [MODEL] TEXTFILE         perplexity fed token by token under a cache policy (--policy P, --window W,\n"
    "                               --sinks S, --h2o H,R, --kv-type T, --positions M, --max-tokens N, --reference)\n"
    "  sweep [MODEL] TEXTFILE       perplexity over a grid (--windows 128,256 --sinks 0,4 --policies full,window,sinks\n"
    "                               --kv-types f16,q8_0 --csv OUT --png PLOT.png --max-tokens N --no-reference)\n"
    "  passkey [MODEL]              passkey retrieval accuracy (--lengths 512,1024 --depths 0,0.5,1 --windows 0,256\n"
    "                               --sinks 0,4 --trials N --seed S)\n"
    "\n"
    "MODEL is a .gguf path; without it: -m PATH, $KVSCOPE_MODEL, or the default model fetched by scripts/fetch-model.\n";

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fputs(kUsage, stderr);
        return 2;
    }
    const std::string command = argv[1];
    const std::vector<std::string> rest(argv + 2, argv + argc);
    try {
        if (command == "info") return kvscope::cli::cmd_info(rest);
        if (command == "tokenize") return kvscope::cli::cmd_tokenize(rest);
        if (command == "generate") return kvscope::cli::cmd_generate(rest);
        if (command == "bench") return kvscope::cli::cmd_bench(rest);
        if (command == "heatmap") return kvscope::cli::cmd_heatmap(rest);
        if (command == "ppl") return kvscope::cli::cmd_ppl(rest);
        if (command == "sweep") return kvscope::cli::cmd_sweep(rest);
        if (command == "passkey") return kvscope::cli::cmd_passkey(rest);
        if (command == "help" || command == "--help" || command == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (command == "--version") {
            std::printf("kvscope-cli %s\n", KVSCOPE_VERSION);
            return 0;
        }
        std::fprintf(stderr, "kvscope-cli: unknown command '%s' (try kvscope-cli help)\n", command.c_str());
        return 2;
    } catch (const kvscope::cli::UsageError& e) {
        std::fprintf(stderr, "kvscope-cli %s: %s\n", command.c_str(), e.what());
        return 2;
    } catch (const kvscope::InvalidSetting& e) {
        std::fprintf(stderr, "kvscope-cli %s: %s\n", command.c_str(), e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "kvscope-cli %s: %s\n", command.c_str(), e.what());
        return 1;
    }
}
