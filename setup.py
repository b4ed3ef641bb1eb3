"""Install SpykeFlow: ``pip install -e .`` (run) or ``pip install -e ".[test]"`` (tests)."""

import pathlib
import re

from setuptools import find_packages, setup

HERE = pathlib.Path(__file__).parent
VERSION = re.search(
    r'^__version__ = "([^"]+)"', (HERE / "spykeflow" / "_version.py").read_text(), re.M
).group(1)

setup(
    name="spykeflow",
    version=VERSION,
    description=(
        "Event-driven spiking neural networks on TensorFlow/Keras 3: DoG/latency encoding, "
        "STDP convolutional feature learning and surrogate-gradient spiking readouts."
    ),
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["spykeflow", "spykeflow.*"]),
    install_requires=[
        "numpy>=1.24",
        "tensorflow>=2.16",
        "keras>=3.0",
        "scipy>=1.10",
        "matplotlib>=3.7",
        "scikit-learn>=1.3",
        "tqdm>=4.60",
        "h5py>=3.8",
        "pillow>=9.0",
        "threadpoolctl>=3.0",
        "numba>=0.59",
    ],
    extras_require={
        "test": [
            "pytest>=7.4",
            "pytest-xdist>=3.3",
            "hypothesis>=6.80",
            "nbclient>=0.8",
            "nbformat>=5.9",
            "ipykernel>=6.25",
            "jupyter>=1.0",
        ],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
