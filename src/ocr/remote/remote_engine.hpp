#pragma once
// Engines for the real models on OpenAI-compatible inference servers (vLLM,
// SGLang, llama.cpp's llama-server, hosted endpoints), and the router that
// picks, per model, the remote engine or the embedded one.

#include <memory>

#include "ocr/engine.hpp"
#include "ocr/remote/remote_backends.hpp"

namespace visor::ocr::remote {

// An engine for `model` served by `backends`' pool for it. One per worker
// thread. REQUIRES: backends.pool(model) != nullptr; backends outlives it.
std::unique_ptr<Engine> make_remote_engine(Model model, RemoteBackends& backends);

// Serves each model with its remote engine when `backends` has one, else
// with the embedded engine (created on first use).
std::unique_ptr<Engine> make_engine_router(RemoteBackends& backends);

}  // namespace visor::ocr::remote
