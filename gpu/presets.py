"""Settings of `clipcheck probe --quick` and `--full`, per model.  Plain data, no torch: the CLI shows them in
--help without importing torch.

Each model trains on a grid: every learning rate in `lrs`, unclipped and with every threshold in `clips`, for
`seeds` seeds (a seed fixes the initialisation and the mini-batches, so the runs of one seed and one learning rate
differ only by clipping).  The probe's mode (SmoothnessProbe): "eval" for the language model (dropout off),
"train" for ResNet-20, whose BatchNorm in eval mode would use running statistics that lag the weights early on.

quick: small models on the bundled data, 30 runs, about 140-150 CPU-seconds in all (1 min 42 s to 3 min 19 s of
wall time measured on 2 cores shared with other jobs, load average 2.4 to 4).  The LSTM's gradient norm on these
settings is about 0.1-0.5 (median 0.2): clip 0.25 acts on 10-30% of the steps, 0.05 on all of them; ResNet-20's
clip 1 acts on about 90% of the steps.
(Unclipped, the LSTM diverges at lr 30 on 2 of 3 seeds and at lr 50 on all, which is why lr 20 is the large one.)
full: the paper's setting, meant for a GPU, on the folders given with --data (nothing is downloaded): an
AWD-LSTM-style model with AWD-LSTM's PTB sizes and dropouts (3 layers, 1150 units, embedding 400, batch 20,
70-token sequences, lr 30 and clip 0.25 as in the paper), and ResNet-20 on CIFAR-10 (batch 128).  The thresholds
of --full are not calibrated on these machines (no GPU, no PTB or CIFAR-10 here): the summary reports the
fraction of steps each one clipped.
"""

MODELS = ("lstm", "resnet20")

PRESETS = {
    "quick": {
        "seeds": 3,
        "lstm": dict(steps=200, lrs=(5.0, 20.0), clips=(0.25, 0.05), batch_size=16, probe_every=5,
                     probe_size=16, momentum=0.0, mode="eval", heldout_every=50, heldout_size=100,
                     vocab_size=1000, embedding_size=64, hidden_size=64, num_layers=2, seq_len=20,
                     dropout_input=0.0, dropout_hidden=0.0, dropout_output=0.0),
        "resnet20": dict(steps=120, lrs=(0.5, 2.0), clips=(1.0,), batch_size=16, probe_every=4,
                         probe_size=16, momentum=0.0, mode="train", heldout_every=50, heldout_size=297,
                         image_size=8),
    },
    "full": {
        "seeds": 5,
        "lstm": dict(steps=6000, lrs=(30.0, 10.0), clips=(0.25, 1.0), batch_size=20, probe_every=20,
                     probe_size=80, momentum=0.0, mode="eval", heldout_every=500, heldout_size=2000,
                     vocab_size=10000, embedding_size=400, hidden_size=1150, num_layers=3, seq_len=70,
                     dropout_input=0.4, dropout_hidden=0.25, dropout_output=0.4),
        "resnet20": dict(steps=6000, lrs=(0.1, 1.0), clips=(2.0, 0.5), batch_size=128, probe_every=20,
                         probe_size=256, momentum=0.0, mode="train", heldout_every=500, heldout_size=10000,
                         image_size=32),
    },
}
