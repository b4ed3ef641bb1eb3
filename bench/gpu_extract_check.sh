#!/usr/bin/env bash
# Extraction check (issue 21) on a machine with an NVIDIA GPU and many cores: the keras.ops
# path's features against the Numba path's on the GPU (bit for bit, every backend installed),
# then bench/bench_network.py (thread scaling over all cores, first-call cost, the GPU path).
#
#   bash bench/gpu_extract_check.sh [OUT_DIR]        (default: outputs/gpu_extract_check)
#
# Needs the spykeflow checkout importable with the CUDA builds of the backends (README,
# "Backends and GPUs"), the MNIST files under $SPYKEFLOW_DATA (else synthetic spikes and no
# "stream" entry), nvidia-smi. About 6-8 minutes; each step has its own timeout.
set -uo pipefail
cd "$(dirname "$0")/.."
source bench/gpu_common.sh outputs/gpu_extract_check "$@"
nproc
echo "backends: $backends"

# 1. bit-identical features on the GPU: the dense-path tests place their tensors on the
#    backend's default device, which is the GPU here
for b in $backends; do
  KERAS_BACKEND=$b timeout ${TEST_S:-240} "$py" -m pytest -q -p no:cacheprovider \
    tests/network/test_extraction.py -k "dense or device" > "$out/test_$b.txt" 2>&1
  echo "dense-path tests on $b: rc $?"; tail -n 3 "$out/test_$b.txt"
done

# 2. the full bench with the first backend: threads 1, 2, 4, ... all cores, compile, GPU path
first=${backends%% *}
KERAS_BACKEND=$first timeout ${BENCH_S:-420} "$py" bench/bench_network.py --train 2000 \
  --extract ${EXTRACT:-20000} --repeats 3 --gpu-batch ${GPU_BATCH:-1024} > "$out/bench_$first.json"
echo "bench ($first): rc $?"

# 3. the GPU path on the other backends
for b in ${backends#"$first"}; do
  KERAS_BACKEND=$b timeout ${DENSE_S:-240} "$py" bench/bench_network.py --train 500 \
    --extract ${EXTRACT:-20000} --repeats 2 --gpu-batch ${GPU_BATCH:-1024} \
    --skip compile train extract stream > "$out/bench_dense_$b.json"
  echo "GPU path ($b): rc $?"
done
echo "wrote $out"
