#!/usr/bin/env bash
# GPU check (issue 19): on a machine with an NVIDIA GPU and the CUDA builds of JAX and PyTorch,
# run the backend conformance tests on the GPU and the backend throughput bench on the GPU and
# on the CPU of the same machine, and write JSON.
#
#   bash bench/gpu_check.sh [OUT_DIR]        (default: outputs/gpu_check)
#
# Needs: the spykeflow checkout importable (pip install -e ".[jax,torch,test]" with CUDA builds,
# see the README), nvidia-smi. TensorFlow is optional: without it the conformance tests compare
# JAX against PyTorch. Float32 conformance needs full-precision matmuls/convolutions, so
# TF32 is switched off (JAX_DEFAULT_MATMUL_PRECISION=highest; run_cases.py turns it off in
# PyTorch when SPYKEFLOW_CONFORMANCE_GPU is set).
set -uo pipefail
cd "$(dirname "$0")/.."
source bench/gpu_common.sh outputs/gpu_check "$@"
peer=$("$py" -c "import importlib.util as u; print('snntorch' if u.find_spec('snntorch') else '')")
echo "backends: $backends ${peer:+(peer: $peer)}"

# 1. throughput on the GPU
timeout ${GPU_BENCH_S:-300} "$py" bench/bench_backends.py --device gpu --backends $backends \
  ${peer:+--peer $peer} --clips ${GPU_CLIPS:-400} --repeats ${REPEATS:-2} > "$out/bench_gpu.json"
echo "bench on the GPU: rc $?"

# 2. conformance on the GPU (JAX and PyTorch on CUDA, TensorFlow where installed); the pytest
# process itself imports Keras, so give it a backend that is installed
first=${backends%% *}
KERAS_BACKEND=$first SPYKEFLOW_CONFORMANCE_GPU=1 JAX_DEFAULT_MATMUL_PRECISION=highest \
  timeout ${CONFORMANCE_S:-420} "$py" -m pytest -q -p no:cacheprovider \
  tests/backends/test_conformance.py --junitxml="$out/conformance.xml" > "$out/conformance.txt" 2>&1
echo "conformance on the GPU: rc $?"; tail -n 15 "$out/conformance.txt"

# 3. the same bench on this machine's CPU, one thread
timeout ${CPU_BENCH_S:-300} "$py" bench/bench_backends.py --device cpu --threads 1 \
  --backends $backends ${peer:+--peer $peer} --clips ${CPU_CLIPS:-100} --repeats 1 \
  > "$out/bench_cpu.json"
echo "bench on the CPU: rc $?"
echo "wrote $out"
