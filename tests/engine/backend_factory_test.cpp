// The one place a backend is chosen: names, what each backend would do on
// this machine, `auto` falling back to the CPU with its reason, and a CUDA
// request refused with the reason where no usable GPU is (or honoured where
// one is).
#include <gtest/gtest.h>

#include <string>

#include "backends/backend_factory.h"
#include "support/shared_model.h"
#include "util/error.h"

namespace kvscope {
namespace {

TEST(BackendFactory, NamesAndOptions) {
    EXPECT_EQ(parse_backend_kind("auto"), BackendKind::Auto);
    EXPECT_EQ(parse_backend_kind("cpu"), BackendKind::Cpu);
    EXPECT_EQ(parse_backend_kind("cuda"), BackendKind::Cuda);
    EXPECT_THROW(parse_backend_kind("tpu"), InvalidSetting);
    BackendOptions o;
    o.threads = -1;
    EXPECT_THROW(o.validate(), InvalidSetting);
    o.threads = 0;
    EXPECT_GE(o.cpu_threads(), 1);
    o.threads = 3;
    EXPECT_EQ(o.cpu_threads(), 3);
}

TEST(BackendFactory, SaysWhatEachBackendWouldDo) {
    const BackendAvailability a = backend_availability();
    if (!a.cuda_usable) {
        EXPECT_FALSE(a.cuda_reason.empty()) << "no usable GPU must come with a reason";
    }
    const std::string text = describe_backends();
    for (const char* line : {"backend cpu:", "backend cuda:", "backend auto:"})
        EXPECT_NE(text.find(line), std::string::npos) << text;
}

TEST(BackendFactory, AutoFallsBackToTheCpuAndSaysWhy) {
    REQUIRE_SHARED_MODEL(model);
    const BackendAvailability a = backend_availability();
    std::string note;
    BackendOptions o;
    o.threads = 1;
    auto b = make_backend(*model, o, &note);
    ASSERT_NE(b, nullptr);
    if (!a.cuda_usable) {
        EXPECT_EQ(b->name(), "CPU");
        EXPECT_NE(note.find(a.cuda_reason), std::string::npos) << note;
    }
    o.kind = BackendKind::Cpu;
    EXPECT_EQ(make_backend(*model, o)->name(), "CPU");
    // The factory gives a new backend per call (one per session an evaluation runs).
    const BackendFactory f = backend_factory(o);
    EXPECT_NE(f(*model).get(), nullptr);
}

TEST(BackendFactory, CudaWithoutAUsableGpuIsRefusedWithTheReason) {
    REQUIRE_SHARED_MODEL(model);
    const BackendAvailability a = backend_availability();
    BackendOptions o;
    o.kind = BackendKind::Cuda;
    if (a.cuda_usable) {
        // On a GPU machine the CUDA backend runs the model (or says why not).
        std::string note;
        auto b = make_backend(*model, o, &note);
        EXPECT_NE(b->name().find("CUDA"), std::string::npos);
        return;
    }
    try {
        make_backend(*model, o);
        FAIL() << "a CUDA backend without a usable GPU";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(a.cuda_reason), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace kvscope
