# Shared start of the GPU scripts (bench/gpu_check.sh, bench/gpu_extract_check.sh); sourced by
# them from the repository root as `source bench/gpu_common.sh DEFAULT_OUT [OUT_DIR]`.
# Sets: out (OUT_DIR or DEFAULT_OUT, created), py ($PYTHON or python3), backends (the Keras
# backends installed, TensorFlow first); exports the checkout on PYTHONPATH; writes the GPU's
# name, memory and driver to $out/gpu.txt and prints it.
out=${2:-$1}
mkdir -p "$out"
py=${PYTHON:-python3}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" TF_CPP_MIN_LOG_LEVEL=3 PYTHONUNBUFFERED=1

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$out/gpu.txt"
cat "$out/gpu.txt"
backends=$("$py" -c "import importlib.util as u; print(' '.join(b for b in ('tensorflow', 'jax', 'torch') if u.find_spec(b)))")
