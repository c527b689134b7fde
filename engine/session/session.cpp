#include "session/session.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>

#include "eval/metrics.h"
#include "kv/policy_registry.h"
#include "tokenizer/separators.h"
#include "util/error.h"
#include "util/process_memory.h"

namespace kvscope {
namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

KvCacheShape cache_shape(const ModelConfig& c) { return {c.n_layer, c.n_head_kv, c.head_dim}; }

// The backend's refusal of the model, thrown before anything is allocated.
std::unique_ptr<Backend> checked(std::unique_ptr<Backend> backend, const Model& model) {
    if (!backend) throw Error("session: no backend given");
    const std::string why = backend->refusal(model);
    if (!why.empty()) throw Error(why);
    return backend;
}

// Up to this many candidates, top_candidates keeps them in one pass.
constexpr int32_t kSmallTopK = 64;

}  // namespace

void SessionOptions::validate(const ModelConfig& config) const {
    if (n_ctx < 0 || n_ctx > config.n_ctx_train)
        throw InvalidSetting("context length must be between 1 and the model's " + std::to_string(config.n_ctx_train) +
                             " (0 = that), got " + std::to_string(n_ctx));
    if (top_k_report < 1 || top_k_report > config.n_vocab)
        throw InvalidSetting("reported top-k must be between 1 and " + std::to_string(config.n_vocab) + ", got " +
                             std::to_string(top_k_report));
    if (prefill_batch < 1 || prefill_batch > 4096)
        throw InvalidSetting("prefill batch must be between 1 and 4096, got " + std::to_string(prefill_batch));
    sampling.validate();
    check_policy_fits(policy, config);
}

void check_policy_fits(const PolicyConfig& policy, const ModelConfig& config) {
    // In-cache positions rotate each key at its rank with one set of angles;
    // a model whose layers use several RoPE bases (gemma3) would need one per base.
    const bool one_base = std::all_of(config.layer_rope_base.begin(), config.layer_rope_base.end(),
                                      [&](float b) { return b == config.rope_freq_base; });
    if (policy.positions == PositionMode::InCache && !one_base)
        throw InvalidSetting("in-cache positions are not available for " + config.architecture +
                             ": its local and global layers rotate with different RoPE bases; use original positions");
}

std::string native_window_note(const PolicyConfig& policy, const ModelConfig& config, bool swa_full) {
    if (config.native_window <= 0) return "";
    int32_t n_local = 0;
    for (uint8_t local : config.layer_is_local) n_local += local;
    const int32_t w = config.native_window;
    if (swa_full)
        return std::to_string(n_local) + " local layers keep what the policy keeps and mask what their own " +
               std::to_string(w) + "-token window left (swa_full: llama.cpp's sums, a global layer's memory)";
    std::string s = std::to_string(n_local) + " local layers keep at most their own " + std::to_string(w) +
                    "-token window (the model's), whatever the policy keeps";
    // A policy window wider than the model's (at any length) is not widened on local layers.
    int32_t widest = policy.budget_percent > 0           ? INT32_MAX  // grows with the text
                     : policy.kind == PolicyKind::H2O      ? policy.h2o_heavy + policy.h2o_recent
                     : is_budget_by_score(policy.kind) ? policy.budget
                                                       : policy.window;
    for (const auto& step : policy.dynamic) widest = step.window == 0 ? INT32_MAX : std::max(widest, step.window);
    if (policy.kind != PolicyKind::Full && widest > w && n_local == config.n_layer)
        s += "; every layer is local (phi3), so a wider policy window changes nothing";
    else if (policy.kind != PolicyKind::Full && widest > w)
        s += "; " + policy.describe().substr(0, policy.describe().find(' ')) + " holds in full on the " +
             std::to_string(config.n_layer - n_local) + " global layers only";
    return s;
}

std::vector<TokenCandidate> top_candidates(const float* logits, int32_t n_vocab, int32_t k, double log_normaliser) {
    k = std::min(k, n_vocab);
    // Higher logit first, the lower id on a tie: a strict order, so the k best are one set.
    const auto better = [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
    std::vector<int32_t> ids;
    if (k <= kSmallTopK) {
        // The usual case (a handful of candidates per step): one pass keeping
        // the k best sorted, instead of an id per vocabulary entry (262,144
        // for Gemma 3) and a partial sort of them every step.
        ids.reserve(static_cast<size_t>(k) + 1);
        for (int32_t i = 0; i < n_vocab; ++i) {
            if (static_cast<int32_t>(ids.size()) == k && !better(i, ids.back())) continue;
            ids.insert(std::upper_bound(ids.begin(), ids.end(), i, better), i);
            if (static_cast<int32_t>(ids.size()) > k) ids.pop_back();
        }
    } else {
        ids.resize(static_cast<size_t>(n_vocab));
        for (int32_t i = 0; i < n_vocab; ++i) ids[static_cast<size_t>(i)] = i;
        std::partial_sort(ids.begin(), ids.begin() + k, ids.end(), better);
    }
    std::vector<TokenCandidate> out;
    for (int32_t i = 0; i < k; ++i) {
        const int32_t id = ids[static_cast<size_t>(i)];
        out.push_back({id, logits[id], static_cast<float>(std::exp(static_cast<double>(logits[id]) - log_normaliser))});
    }
    return out;
}

std::vector<TokenCandidate> top_candidates(const float* logits, int32_t n_vocab, int32_t k) {
    return top_candidates(logits, n_vocab, k, log_sum_exp(logits, n_vocab));
}

Session::Session(const Model& model, std::unique_ptr<Backend> backend, const SessionOptions& options)
    : model_(model),
      backend_(checked(std::move(backend), model)),
      options_((options.validate(model.config()), options)),
      n_ctx_(options.n_ctx == 0 ? model.config().n_ctx_train : options.n_ctx),
      cache_(make_cache(options.policy.kv_type, options.policy.positions)),
      sampler_(options.sampling),
      logits_(static_cast<size_t>(model.config().n_vocab)) {
    options_.policy.validate(n_ctx_, model.config().n_layer, n_ctx_);
}

KvCache Session::make_cache(KvValueType type, PositionMode positions) {
    // The bookkeeping here, the bytes in the backend's memory; storage grows a
    // page at a time as positions arrive, so the capacity costs nothing upfront.
    KvLayout layout = KvLayout::uniform(cache_shape(model_.config()), n_ctx_, type, positions);
    // A local layer (the model's own window W) never holds more than W − 1
    // earlier positions plus one batch: its storage stays that small.
    for (int32_t l = 0; l < model_.config().n_layer; ++l)
        if (const int32_t w = evicting_window(l); w > 0)
            layout.layer_capacity[static_cast<size_t>(l)] = std::min(n_ctx_, w - 1 + options_.prefill_batch);
    std::unique_ptr<KvStorage> storage = backend_->create_kv_storage(layout);
    return KvCache(std::move(layout), std::move(storage));
}

int32_t Session::evicting_window(int32_t layer) const {
    return options_.swa_full ? 0 : model_.config().layer_window(layer);
}

bool Session::policy_bounds_every_layer() const {
    const PolicyConfig& p = options_.policy;
    // Pins that come with the text (every k-th, every separator) and budgets
    // that grow with it (a percent) are bounded by the context only.
    if (p.kind == PolicyKind::Full || p.full_every > 0 || p.pin_every > 0 || p.pin_separators || p.budget_percent > 0)
        return false;
    // Global sinks and pins sit on top of W: together they may not fit.
    if (p.kind == PolicyKind::Global && int64_t{p.window} + p.sinks + static_cast<int64_t>(p.pins.size()) >= n_ctx_)
        return false;
    for (const auto& step : p.dynamic)
        if (step.window == 0) return false;
    return true;
}

bool Session::needs_capture() const {
    return options_.capture_attention || options_.reference_run || policy_info(options_.policy.kind).scores_attention;
}

std::vector<int32_t> Session::held_positions(int32_t layer) const {
    const auto& slots = cache_.held_slots(layer);
    std::vector<int32_t> out(slots.size());
    for (size_t i = 0; i < slots.size(); ++i) out[i] = cache_.position_of(layer, slots[i]);
    return out;
}

std::vector<double> Session::scores_of(int32_t layer, const std::vector<int32_t>& positions) const {
    std::vector<double> out(positions.size(), 0.0);
    if (options_.policy.kind == PolicyKind::Tova) return latest_attention(layer, positions);
    if (options_.policy.kind == PolicyKind::Knorm || options_.policy.kind == PolicyKind::KeyDiff)
        return key_scores(layer, positions);
    if (h2o_scores_.empty()) return out;
    const auto& s = h2o_scores_[static_cast<size_t>(layer)];
    for (size_t i = 0; i < positions.size(); ++i)
        if (static_cast<size_t>(positions[i]) < s.size()) out[i] = s[static_cast<size_t>(positions[i])];
    return out;
}

std::vector<double> Session::latest_attention(int32_t layer, const std::vector<int32_t>& positions) const {
    std::vector<double> out(positions.size(), 0.0);
    if (last_row_.layers.empty()) return out;  // no query captured yet (e.g. just switched from an uncaptured policy)
    const LayerAttention& la = last_row_.layers[static_cast<size_t>(layer)];
    const int32_t n_head = model_.config().n_head;
    const size_t n_keys = la.key_positions.size();
    // Both lists are increasing: walk them together.
    size_t j = 0;
    for (size_t i = 0; i < positions.size(); ++i) {
        while (j < n_keys && la.key_positions[j] < positions[i]) ++j;
        if (j == n_keys || la.key_positions[j] != positions[i]) continue;  // not attended: stored after the query
        double sum = 0;
        for (int32_t h = 0; h < n_head; ++h) sum += la.probs[static_cast<size_t>(h) * n_keys + j];
        out[i] = sum / n_head;
    }
    return out;
}

std::vector<double> Session::key_scores(int32_t layer, const std::vector<int32_t>& positions) const {
    std::vector<double> out(positions.size(), 0.0);
    if (positions.empty()) return out;
    std::vector<int32_t> slots(positions.size());
    for (size_t i = 0; i < positions.size(); ++i) slots[i] = cache_.slot_of(layer, positions[i]);
    const int32_t heads = cache_.layout().heads_per_group[static_cast<size_t>(layer)];  // one group per layer today
    std::vector<float> per_head(slots.size() * static_cast<size_t>(heads));  // [slots][heads]
    if (options_.policy.kind == PolicyKind::Knorm) cache_.storage().key_norms(layer, 0, slots, per_head.data());
    else cache_.storage().key_cosines_to_mean(layer, 0, slots, per_head.data());
    // Higher = more worth keeping: a low norm (Knorm), a low similarity to the mean key (KeyDiff).
    for (size_t i = 0; i < slots.size(); ++i) {
        double sum = 0;
        for (int32_t h = 0; h < heads; ++h) sum += per_head[i * static_cast<size_t>(heads) + static_cast<size_t>(h)];
        out[i] = -(sum / heads);
    }
    return out;
}

void Session::accumulate_h2o(const std::vector<QueryAttention>& rows) {
    if (options_.policy.kind != PolicyKind::H2O) return;
    const int32_t n_layer = model_.config().n_layer, n_head = model_.config().n_head;
    h2o_scores_.resize(static_cast<size_t>(n_layer));
    for (const QueryAttention& q : rows)
        for (int32_t l = 0; l < n_layer; ++l) {
            const LayerAttention& la = q.layers[static_cast<size_t>(l)];
            auto& s = h2o_scores_[static_cast<size_t>(l)];
            const size_t n_keys = la.key_positions.size();
            for (size_t j = 0; j < n_keys; ++j) {
                const auto p = static_cast<size_t>(la.key_positions[j]);
                if (s.size() <= p) s.resize(p + 1, 0.0);
                for (int32_t h = 0; h < n_head; ++h) s[p] += la.probs[static_cast<size_t>(h) * n_keys + j];
            }
        }
}

void Session::evict_outside_native_windows(KvCache& cache, int32_t next, std::vector<std::vector<int32_t>>* evicted) const {
    const ModelConfig& c = model_.config();
    for (int32_t l = 0; l < c.n_layer; ++l) {
        const int32_t w = evicting_window(l);
        if (w == 0) continue;
        std::vector<int32_t> held(cache.held_slots(l).size());  // [held] increasing positions
        for (size_t i = 0; i < held.size(); ++i) held[i] = cache.position_of(l, cache.held_slots(l)[i]);
        for (int32_t p : outside_native_window(held, next, w)) {
            cache.evict(l, p);
            if (evicted) (*evicted)[static_cast<size_t>(l)].push_back(p);
        }
    }
}

PolicyConfig Session::policy_with_separators() const {
    PolicyConfig p = options_.policy;
    p.pins.insert(separator_positions_.begin(), separator_positions_.end());
    return p;
}

void Session::feed(const std::vector<TokenId>& tokens, int32_t first_position) {
    const int32_t n_layer = model_.config().n_layer;
    // Every separator is noted, whatever the policy, so that switching to
    // SepLLM's pins later finds the ones already in the text.
    for (size_t i = 0; i < tokens.size(); ++i)
        if (is_separator_piece(model_.tokenizer().token_to_piece(tokens[i], false)))
            separator_positions_.insert(first_position + static_cast<int32_t>(i));
    const bool capture = needs_capture();
    std::vector<QueryAttention> rows;
    auto run = [&](const std::vector<TokenId>& batch, const std::vector<int32_t>& positions) {
        const auto t0 = std::chrono::steady_clock::now();
        backend_->forward(batch, positions, cache_, logits_.data(), capture ? &rows : nullptr);
        pending_timings_.forward_ms += ms_since(t0);
        if (capture) {
            accumulate_h2o(rows);
            last_row_ = rows.back();
            for (auto& r : rows) captured_.push_back(std::move(r));
        }
        if (reference_) {
            const auto t1 = std::chrono::steady_clock::now();
            // The full-cache run is the model as designed: its local layers keep their own window too.
            evict_outside_native_windows(reference_->cache, positions.front(), nullptr);
            for (int32_t p : positions)
                for (int32_t l = 0; l < n_layer; ++l) reference_->cache.insert(l, p);
            reference_captured_.clear();
            backend_->forward(batch, positions, reference_->cache, reference_->logits.data(), &reference_captured_);
            pending_timings_.reference_ms += ms_since(t1);
        }
    };
    if (options_.policy.kind == PolicyKind::Full) {
        // The policy evicts nothing: the whole batch goes in at once. Local
        // layers first drop what no query of the batch can see (the batch's
        // earliest query sees positions > first − W).
        const auto t0 = std::chrono::steady_clock::now();
        evict_outside_native_windows(cache_, first_position, &pending_evicted_);
        pending_timings_.policy_ms += ms_since(t0);
        std::vector<int32_t> positions(tokens.size());
        for (size_t i = 0; i < tokens.size(); ++i) {
            positions[i] = first_position + static_cast<int32_t>(i);
            for (int32_t l = 0; l < n_layer; ++l) cache_.insert(l, positions[i]);
        }
        run(tokens, positions);
        // Then what only the batch's earlier queries needed: between steps a
        // local layer holds its last W positions, as under a window(W) policy.
        evict_outside_native_windows(cache_, positions.back(), &pending_evicted_);
    } else {
        // A policy may evict after any token: one token at a time, each seeing
        // exactly what the cache holds when it arrives.
        for (size_t i = 0; i < tokens.size(); ++i) {
            const int32_t position = first_position + static_cast<int32_t>(i);
            const auto t0 = std::chrono::steady_clock::now();
            PolicyConfig with_separators;
            const PolicyConfig& policy =
                options_.policy.pin_separators ? (with_separators = policy_with_separators()) : options_.policy;
            for (int32_t l = 0; l < n_layer; ++l) {
                const std::vector<int32_t> held = held_positions(l);
                for (int32_t p : positions_to_evict(policy, l, held, scores_of(l, held), position,
                                                    evicting_window(l))) {
                    cache_.evict(l, p);
                    pending_evicted_[static_cast<size_t>(l)].push_back(p);
                }
                cache_.insert(l, position);
            }
            pending_timings_.policy_ms += ms_since(t0);
            run({tokens[i]}, {position});
        }
    }
    n_fed_ += static_cast<int32_t>(tokens.size());
}

void Session::prefill(const std::vector<TokenId>& prompt) {
    if (prompt.empty()) throw InvalidSetting("the prompt is empty: give at least one token");
    if (static_cast<int64_t>(prompt.size()) > n_ctx_)
        throw InvalidSetting("the prompt has " + std::to_string(prompt.size()) + " tokens, more than the context length " +
                             std::to_string(n_ctx_));
    for (size_t i = 0; i < prompt.size(); ++i)
        if (prompt[i] < 0 || prompt[i] >= model_.config().n_vocab)
            throw InvalidSetting("prompt token #" + std::to_string(i) + " = " + std::to_string(prompt[i]) +
                                 " is outside the vocabulary (0.." + std::to_string(model_.config().n_vocab - 1) + ")");
    options_.policy.validate(n_ctx_, model_.config().n_layer, static_cast<int32_t>(prompt.size()));
    const auto t0 = std::chrono::steady_clock::now();
    const ModelConfig& c = model_.config();
    if (cache_.value_type() != options_.policy.kv_type || cache_.position_mode() != options_.policy.positions)
        cache_ = make_cache(options_.policy.kv_type, options_.policy.positions);
    cache_.clear();
    reference_.reset();
    if (options_.reference_run) {
        // The full-cache shadow run keeps its bytes in the backend's memory too.
        reference_ = std::make_unique<Reference>(
            Reference{make_cache(KvValueType::F16, PositionMode::Original), std::vector<float>(logits_.size())});
    }
    sampler_.reset();
    h2o_scores_.clear();
    separator_positions_.clear();
    captured_.clear();
    last_row_ = QueryAttention{};
    pending_evicted_.assign(static_cast<size_t>(c.n_layer), {});
    pending_timings_ = {};
    tokens_ = prompt;
    n_prompt_ = static_cast<int32_t>(prompt.size());
    n_fed_ = 0;
    for (size_t i = 0; i < prompt.size(); i += static_cast<size_t>(options_.prefill_batch)) {
        const size_t end = std::min(prompt.size(), i + static_cast<size_t>(options_.prefill_batch));
        feed(std::vector<TokenId>(prompt.begin() + static_cast<long>(i), prompt.begin() + static_cast<long>(end)),
             static_cast<int32_t>(i));
    }
    prefill_ms_ = ms_since(t0);
    prefill_snapshot_ = StepSnapshot{};
    prefill_snapshot_.step = -1;
    prefill_snapshot_.position = n_prompt_ - 1;
    prefill_snapshot_.token = prompt.back();
    fill_snapshot(prefill_snapshot_);
}

void Session::set_policy(const PolicyConfig& policy) {
    policy.validate(n_ctx_, model_.config().n_layer, std::max<int32_t>(1, static_cast<int32_t>(tokens_.size())));
    check_policy_fits(policy, model_.config());
    const bool h2o_before = options_.policy.kind == PolicyKind::H2O;
    options_.policy = policy;
    if (policy.kind == PolicyKind::H2O && !h2o_before) h2o_scores_.clear();  // scores start from the switch
}


void Session::fill_snapshot(StepSnapshot& snap) {
    const ModelConfig& c = model_.config();
    const auto t0 = std::chrono::steady_clock::now();
    snap.policy = options_.policy.describe();
    snap.gqa_groups.assign(static_cast<size_t>(c.n_head_kv), {});
    for (int32_t h = 0; h < c.n_head; ++h) snap.gqa_groups[static_cast<size_t>(h / c.gqa_group())].push_back(h);
    if (options_.cache_views) {
        snap.layers.resize(static_cast<size_t>(c.n_layer));
        const int32_t next = n_fed_;  // the position the next fed token takes
        PolicyConfig with_separators;
        const PolicyConfig& policy =
            options_.policy.pin_separators ? (with_separators = policy_with_separators()) : options_.policy;
        for (int32_t l = 0; l < c.n_layer; ++l) {
            LayerCacheView& v = snap.layers[static_cast<size_t>(l)];
            v.held_positions = held_positions(l);
            const std::vector<double> scores = scores_of(l, v.held_positions);
            v.held_slots = cache_.held_slots(l);
            v.held_roles = position_roles(policy, l, v.held_positions, scores);
            v.evicted = std::move(pending_evicted_[static_cast<size_t>(l)]);
            pending_evicted_[static_cast<size_t>(l)].clear();
            v.block_table.clear();
            for (size_t i = 0; i < v.held_slots.size(); i += kPageSize) v.block_table.push_back(v.held_slots[i] / kPageSize);
            v.native_window = c.layer_window(l);
            v.capacity = layer_capacity_with_native(options_.policy, l, n_ctx_, evicting_window(l));
            const auto evict_next = positions_to_evict(policy, l, v.held_positions, scores, next, evicting_window(l));
            v.next_slot = evict_next.empty() ? cache_.next_free_slot(l) : cache_.slot_of(l, evict_next.back());
        }
    }
    snap.memory.kv_bytes = cache_.bytes_held();
    snap.memory.kv_full_bytes = static_cast<uint64_t>(c.n_layer) * static_cast<uint64_t>(n_fed_) * cache_.bytes_per_slot();
    const BackendMemory bm = backend_->memory();
    snap.memory.weights_bytes = bm.weights_bytes;
    snap.memory.scratch_bytes = bm.scratch_bytes;
    // A host "device" already reports the resident set: one read of /proc per step, not two.
    snap.memory.process_rss = bm.device_is_host ? bm.device_used : current_rss_bytes();
    snap.memory.device_used = bm.device_used;
    snap.memory.device_total = bm.device_total;
    snap.memory.device_is_host = bm.device_is_host;
    if (reference_) snap.reference = reference_metrics();
    if (options_.capture_attention) snap.attention = std::move(captured_);
    captured_.clear();
    snap.timings = pending_timings_;
    snap.timings.capture_ms = ms_since(t0);
    pending_timings_ = {};
}

StepResult Session::step(std::optional<TokenId> forced) {
    if (n_prompt_ == 0) throw Error("step() before prefill(): give a prompt first");
    StepResult r;
    if (n_fed_ < static_cast<int32_t>(tokens_.size())) {
        // The token chosen by the previous step enters the model now.
        // A policy that bounds every layer never fills the cache: the text may
        // run past the context length (StreamingLLM). Otherwise it is the limit.
        if (n_fed_ >= n_ctx_ && !policy_bounds_every_layer())
            throw Error("context full: " + std::to_string(n_fed_) + " tokens fill the context length " +
                        std::to_string(n_ctx_) + " (start again with a larger context or a shorter prompt)");
        feed({tokens_.back()}, n_fed_);
    }
    const auto t1 = std::chrono::steady_clock::now();
    const int32_t n_vocab = model_.config().n_vocab;
    // One pass over the vocabulary for the normaliser (an exp per token), shared
    // by the candidates' probabilities and the chosen token's log-probability.
    const double log_normaliser = log_sum_exp(logits_.data(), n_vocab);
    r.top = top_candidates(logits_.data(), n_vocab, options_.top_k_report, log_normaliser);
    if (forced && (*forced < 0 || *forced >= n_vocab))
        throw InvalidSetting("forced token " + std::to_string(*forced) + " is outside the vocabulary (0.." +
                             std::to_string(n_vocab - 1) + ")");
    r.token = forced ? *forced : sampler_.sample(logits_.data(), n_vocab);
    r.chosen_logprob = static_cast<float>(static_cast<double>(logits_[static_cast<size_t>(r.token)]) - log_normaliser);
    const double sample_ms = ms_since(t1);
    r.step = n_generated();
    r.position = static_cast<int32_t>(tokens_.size());
    r.text = model_.tokenizer().token_to_piece(r.token, false);
    r.end_of_generation = model_.tokenizer().is_end_of_generation(r.token);
    tokens_.push_back(r.token);
    fill_snapshot(r);
    r.timings.sample_ms = sample_ms;
    return r;
}

}  // namespace kvscope
