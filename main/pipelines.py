"""The pipelines of ``main/main.py``: name -> configuration class and stages.

Each pipeline lives in its own module (:mod:`stdp_images`, :mod:`nmnist`, :mod:`soli`,
:mod:`fsdd`, :mod:`qcfs`, :mod:`sequences`) and uses only the public SpykeFlow API (through
:mod:`api` where names are still moving).
"""

from __future__ import annotations

import fsdd
import nmnist
import qcfs
import sequences
import soli
import stdp_images
from config import Pipeline
from stdp_configs import DigitsConfig, EmnistConfig, FacebikeConfig, FashionConfig, MnistConfig

PIPELINES: dict[str, Pipeline] = {
    "digits": Pipeline(
        "embedded scikit-learn digits, no download: encode, STDP Conv1, Pool1 features, "
        "binary readout, all plots (about 25 s of CPU time)",
        DigitsConfig, stdp_images.body),
    "mnist": Pipeline(
        "MNIST, published one-layer (mnist_conv1) or two-layer (--layers 2, mnist_conv2) settings, "
        "binary sg1 readout (--backend reference: the original's SGD)",
        MnistConfig, stdp_images.body),
    "fashion": Pipeline("Fashion-MNIST with the MNIST settings", FashionConfig,
                        stdp_images.body),
    "emnist": Pipeline(
        "EMNIST Balanced (the available subset), mnist_conv1 / mnist_conv2, binary sg1 readout",
        EmnistConfig, stdp_images.body),
    "facebike": Pipeline(
        "Caltech faces vs motorbikes (Kheradpisheh et al. 2018): 160x250 images, three STDP "
        "conv layers (STDP on LearningSet), standardised Pool1 + Pool2 spikes and Conv3 max "
        "potentials, linear SVM with C from 5-fold CV on TrainingSet",
        FacebikeConfig, stdp_images.body),
    "nmnist": Pipeline(
        "N-MNIST subset: events -> spike frames -> STDP Conv1/Pool1 features -> readout "
        "(--backend convsnn: BPTT ConvSNN with 4-bit QAT on the frames)",
        nmnist.NmnistConfig, nmnist.body),
    "soli": Pipeline(
        "Soli radar range-Doppler -> delta spikes -> ConvSNN (runs when the data is present)",
        soli.SoliConfig, soli.body),
    "fsdd": Pipeline(
        "Free Spoken Digits: log-Mel -> s2net Classifier (32 filters, 15 epochs), standard "
        "split", fsdd.FsddConfig, fsdd.body),
    "qcfs": Pipeline(
        "QCFS ANN->SNN conversion accuracy-vs-T curves (L = 4, 8, 16 and the ReLU baseline)",
        qcfs.QcfsConfig, qcfs.body),
    "sequences": Pipeline(
        "synthetic MNIST sequences (Samadzadeh et al.): --model convsnn|resnet|cnn|cnn_lstm|"
        "convlstm|c3d, --seq 1..5, Table 1 CPU protocol (10k/2k clips, 8 epochs)",
        sequences.SequencesConfig, sequences.body),
}
