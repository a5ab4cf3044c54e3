# workerd configuration of the edge worker, to serve it locally without wrangler:
#
#   workerd serve wasm/edge/workerd.capnp --socket-addr http=127.0.0.1:8787
#
# after building wasm/edge/build/ (see README.md). Paths are relative to this file.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [
    # The shim of syumai/workers' cmd/workers-assets-gen -mode=go, and the Go wasm.
    (name = "worker.mjs", esModule = embed "build/worker.mjs"),
    (name = "shim.mjs", esModule = embed "build/shim.mjs"),
    (name = "wasm_exec.js", esModule = embed "build/wasm_exec.js"),
    (name = "app.wasm", wasm = embed "build/app.wasm"),
  ],
  compatibilityDate = "2025-01-01",
);
