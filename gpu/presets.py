"""Settings of `clipcheck probe --quick` and `--full`, per model.  Plain data, no torch: the CLI shows them in
--help without importing torch."""

MODELS = ("lstm", "resnet20")

# quick: small enough that both models, clipped and unclipped, train in about two minutes on 2 CPU cores.
# full: the paper's scale (a 2-layer, 650-unit tied LSTM in place of the 3-layer AWD-LSTM; lr 30 and clip 0.25 as
# in the paper's language-model runs), meant for a GPU.  The ResNet-20 threshold 2 is about the median gradient
# norm of the unclipped quick run (0.8 to 4), so the clipped run clips some steps and not others.
PRESETS = {
    "quick": {
        "lstm": dict(steps=200, lr=20.0, clip=0.25, batch_size=20, probe_every=4, probe_size=20, momentum=0.0,
                     hidden_size=128, num_layers=2, seq_len=35, vocab_size=2000),
        "resnet20": dict(steps=120, lr=0.1, clip=2.0, batch_size=32, probe_every=4, probe_size=32, momentum=0.0,
                         image_size=16),
    },
    "full": {
        "lstm": dict(steps=6000, lr=30.0, clip=0.25, batch_size=20, probe_every=10, probe_size=80, momentum=0.0,
                     hidden_size=650, num_layers=2, seq_len=35, vocab_size=10000),
        "resnet20": dict(steps=6000, lr=0.1, clip=2.0, batch_size=128, probe_every=10, probe_size=256,
                         momentum=0.0, image_size=32),
    },
}
