"""ner4el's BERT encoder against transformers' BertModel on the real pretrained weights, on files
written the way users of the release have them: a model grown by [E] and [\\E] and written by
save_pretrained, and a checkpoint written by real pytorch-lightning (Trainer.save_checkpoint with
omegaconf hyper-parameters, optimizer state and callbacks)."""
import json
import os

import numpy as np
import pytest
import torch

from conftest import run_tool, shared_mentions

TOL = 1e-4
N = 24  # mentions and entity texts compared (the whole encoder runs on each)


def release_mention_input(tok, r, window=128):
    """The release's dataset.py: L + M + R, each cut to its first W/2 ids, padded with 0."""
    enc = lambda s: tok.encode(s, add_special_tokens=False)[: window // 2]
    left, men, right = enc("[CLS]" + r["left_context"]), enc("[E]" + r["mention"].lower() + "[\\E]"), enc(r["right_context"] + "[SEP]")
    ids = left + men + right
    ids += [0] * (window - len(ids))
    return ids, len(left) + 1


def release_entity_input(tok, cls, desc, window=128):
    ids = tok.encode(cls + "[SEP]" + desc, add_special_tokens=True)[:window]
    return ids + [0] * (window - len(ids))


def rows():
    rs = shared_mentions(fallback=True)
    return rs[:: max(1, len(rs) // N)][:N]


def entity_rows():
    classes = ["PER", "LOC", "ORG", "", "EVE"]
    return [{"description": r["output"] + " " + r["right_context"][:500], "class": classes[i % 5],
             "title": r["output"] + (" (disambiguation)" if i % 2 else "")} for i, r in enumerate(rows())]


def hf_vectors(model, tok, mentions=True):
    """Mention vectors at the mention position and entity vectors at [CLS], as the release's forward()."""
    model.eval()
    ms = [release_mention_input(tok, r) for r in rows()] if mentions else [([0], 0)]
    width = max(len(m[0]) for m in ms)  # an input can be longer than W (docs/reference.md): pad the batch to it
    ids = torch.tensor([m[0] + [0] * (width - len(m[0])) for m in ms])
    pos = torch.tensor([m[1] for m in ms])
    with torch.no_grad():
        h = model(ids, attention_mask=(ids != 0).long())[0]
        mv = h[torch.arange(len(ms)), pos].numpy()
        es = torch.tensor([release_entity_input(tok, e["class"], e["description"]) for e in entity_rows()])
        ev = model(es, attention_mask=(es != 0).long())[0][:, 0].numpy()
    return ms, mv, ev


def write_jsonl(path, items):
    with open(path, "w") as f:
        for x in items:
            f.write(json.dumps(x) + "\n")


def ner4el_vectors(tmp_path, model_path, *extra):
    if "--dtype" not in extra:
        extra = (*extra, "--dtype", "fp32")  # the comparisons at TOL are of fp32 arithmetic
    write_jsonl(tmp_path / "m.jsonl", rows())
    write_jsonl(tmp_path / "e.jsonl", entity_rows())
    run_tool("embed", "--model", str(model_path), *extra, "--data", str(tmp_path / "m.jsonl"), "--npy", str(tmp_path / "m.npy"))
    run_tool("embed", "--model", str(model_path), *extra, "--side", "entity", "--data", str(tmp_path / "e.jsonl"),
             "--npy", str(tmp_path / "e.npy"))
    return np.load(tmp_path / "m.npy"), np.load(tmp_path / "e.npy")


@pytest.fixture(scope="module")
def grown(tmp_path_factory, model_dir, hf_tokenizer):
    """What a user of the release has on disk: bert grown by [E], [\\E], written by save_pretrained."""
    from transformers import BertModel
    torch.manual_seed(2)
    model = BertModel.from_pretrained(model_dir)
    model.resize_token_embeddings(len(hf_tokenizer))
    out = tmp_path_factory.mktemp("grown")
    model.save_pretrained(out)
    hf_tokenizer.save_pretrained(out)
    return out, model


def test_inputs_equal_release_dataset(tmp_path, grown, hf_tokenizer):
    path, _ = grown
    write_jsonl(tmp_path / "m.jsonl", rows())
    out = run_tool("inputs", "--vocab", str(path), "--data", str(tmp_path / "m.jsonl")).stdout.decode().splitlines()
    got = [json.loads(x) for x in out]
    for g, r in zip(got, rows()):
        ids, pos = release_mention_input(hf_tokenizer, r)
        assert g["ids"] == ids and g["mention_position"] == pos


def test_save_pretrained_model_matches_bert_model(tmp_path, grown, hf_tokenizer):
    path, model = grown
    assert model.config.vocab_size == 30524
    _, mv, ev = hf_vectors(model, hf_tokenizer)
    om, oe = ner4el_vectors(tmp_path, path)
    assert om.shape == mv.shape == (len(rows()), 384)
    print(f"save_pretrained: max |diff| mention {np.abs(om - mv).max():.2e}, entity {np.abs(oe - ev).max():.2e}")
    assert np.abs(om - mv).max() < TOL, np.abs(om - mv).max()
    assert np.abs(oe - ev).max() < TOL, np.abs(oe - ev).max()
    # The grown rows are used: [E] and [\E] are in every mention input.
    assert np.abs(model.embeddings.word_embeddings.weight[30522:].detach().numpy()).max() > 0


def test_pretrained_folder_grows_and_matches(tmp_path, model_dir, hf_tokenizer):
    """The installed folder has 30,522 rows: ner4el grows it as the release's resize did. The two new
    rows are random, so compare an input without [E]/[\\E] exactly: the entity side."""
    from transformers import BertModel
    model = BertModel.from_pretrained(model_dir)
    _, _, ev = hf_vectors(model, hf_tokenizer, mentions=False)
    _, oe = ner4el_vectors(tmp_path, model_dir, "--style", "release")
    assert np.abs(oe - ev).max() < TOL, np.abs(oe - ev).max()


def test_hidden_states_every_layer_shape_and_cls(grown, hf_tokenizer):
    """Sanity of the reference itself: the real model gives distinct, non-degenerate vectors."""
    _, model = grown
    _, mv, ev = hf_vectors(model, hf_tokenizer)
    assert np.linalg.norm(mv, axis=1).min() > 1.0
    assert np.unique(np.round(mv[:, 0], 5)).size > len(mv) // 2


def test_lightning_checkpoint_loads(tmp_path, grown, hf_tokenizer):
    """A .ckpt written by real pytorch-lightning with the release's module layout."""
    import torch.distributed
    # Debian's torch 1.13 cannot import torch.distributed._shard under Python 3.11 (a dataclass with a
    # mutable default); Lightning imports it only when distributed is available. One process needs none.
    torch.distributed.is_available = lambda: False
    import pytorch_lightning as pl
    from omegaconf import OmegaConf
    from pytorch_lightning.callbacks import ModelCheckpoint
    from transformers import BertModel

    path, _ = grown

    class MyModel(pl.LightningModule):  # the release's src/pl_modules/model.py, single shared encoder
        def __init__(self, *args, **kwargs):
            super().__init__()
            self.save_hyperparameters()
            self.bert_model = BertModel.from_pretrained(str(path))
            self.mention_encoder = self.bert_model
            self.entity_encoder = self.bert_model
            self.dropout = torch.nn.Dropout(self.hparams.dropout)

        def training_step(self, batch, batch_idx):
            ids, pos = batch
            h = self.mention_encoder(ids, attention_mask=(ids != 0).long())[0]
            return h[torch.arange(len(ids)), pos].pow(2).mean()

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=self.hparams.optim.lr)

    cfg = OmegaConf.create({"optim": {"lr": 1e-3, "use_lr_scheduler": False}, "data": {"window": 128}})
    torch.manual_seed(2)
    module = MyModel(transformer_name=str(path), dropout=0.5, optim=cfg.optim, data=cfg.data)
    ms = [release_mention_input(hf_tokenizer, r) for r in rows()[:4]]
    ds = torch.utils.data.TensorDataset(torch.tensor([m[0][:128] for m in ms]), torch.tensor([m[1] for m in ms]))
    trainer = pl.Trainer(max_steps=2, logger=False, enable_progress_bar=False, enable_model_summary=False,
                         default_root_dir=str(tmp_path), callbacks=[ModelCheckpoint(dirpath=str(tmp_path / "ck"))])
    trainer.fit(module, torch.utils.data.DataLoader(ds, batch_size=2))
    ckpt = tmp_path / "epoch=0.ckpt"
    trainer.save_checkpoint(str(ckpt))
    saved = torch.load(str(ckpt))
    assert {"state_dict", "optimizer_states", "callbacks", "hyper_parameters"} <= saved.keys()
    assert saved["optimizer_states"][0]["state"], "Adam moments are in the checkpoint"
    assert type(saved["hyper_parameters"]["optim"]).__name__ == "DictConfig"
    assert any(k.startswith("mention_encoder.") for k in saved["state_dict"])

    _, mv, ev = hf_vectors(module.bert_model, hf_tokenizer)
    om, oe = ner4el_vectors(tmp_path, ckpt, "--vocab", str(path))
    print(f"lightning .ckpt: max |diff| mention {np.abs(om - mv).max():.2e}, entity {np.abs(oe - ev).max():.2e}")
    assert np.abs(om - mv).max() < TOL, np.abs(om - mv).max()
    assert np.abs(oe - ev).max() < TOL, np.abs(oe - ev).max()
    # Training moved the weights: a load that ignored the checkpoint would not match.
    _, mv0, _ = hf_vectors(BertModel.from_pretrained(str(path)), hf_tokenizer)
    assert np.abs(mv0 - mv).max() > 10 * TOL


def sentence_mention_input(tok, r, window=128):
    """ner4el's sentence style: [CLS] + the W-2 pieces centred on the mention + [SEP], plain text."""
    enc = lambda s: tok.encode(s, add_special_tokens=False)
    left, men, right = enc(r["left_context"]), enc(r["mention"])[: window - 2], enc(r["right_context"])
    budget = window - 2 - len(men)
    lk = min(len(left), budget // 2)
    rk = min(len(right), budget - lk)
    lk = min(len(left), budget - rk)
    return [tok.cls_token_id] + left[len(left) - lk:] + men + right[:rk] + [tok.sep_token_id]


def mean_pool(model, batch):
    width = max(map(len, batch))
    ids = torch.tensor([b + [0] * (width - len(b)) for b in batch])
    mask = (ids != 0).long()
    with torch.no_grad():
        h = model(ids, attention_mask=mask)[0]
    m = mask.unsqueeze(-1).float()
    return ((h * m).sum(1) / m.sum(1)).numpy()


def test_sentence_style_is_sentence_transformers_mean_pooling(tmp_path, model_dir, hf_tokenizer):
    """The installed folder is a sentence-transformers model (1_Pooling: mean): ner4el reads it by mean
    pooling over plain text, as sentence-transformers does; entities as "title: description"."""
    from transformers import BertModel
    model = BertModel.from_pretrained(model_dir).eval()
    mv = mean_pool(model, [sentence_mention_input(hf_tokenizer, r) for r in rows()])
    texts = [e["title"].replace("(", "").replace(")", "") + ": " + e["description"] for e in entity_rows()]
    ev = mean_pool(model, [hf_tokenizer.encode(t, truncation=True, max_length=128) for t in texts])
    om, oe = ner4el_vectors(tmp_path, model_dir)  # style auto
    print(f"sentence style: max |diff| mention {np.abs(om - mv).max():.2e}, entity {np.abs(oe - ev).max():.2e}")
    assert np.abs(om - mv).max() < TOL, np.abs(om - mv).max()
    assert np.abs(oe - ev).max() < TOL, np.abs(oe - ev).max()


def cosines(a, b):
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.mark.parametrize("dtype,floor", [("bf16", 0.999), ("int8", 0.98)])
def test_reduced_precision_against_fp32_transformers(tmp_path, model_dir, hf_tokenizer, dtype, floor):
    """bf16 and int8 inference on the real model against transformers' fp32 vectors: the direction of
    every vector kept (cosine), not the fp32 digits. Skipped where the CPU cannot run the dtype."""
    from transformers import BertModel
    if run_tool("embed", "--dtype", dtype, "--data", "/dev/null", check=False).returncode:
        pytest.skip(f"{dtype} not supported on this machine")
    model = BertModel.from_pretrained(model_dir).eval()
    mv = mean_pool(model, [sentence_mention_input(hf_tokenizer, r) for r in rows()])
    texts = [e["title"].replace("(", "").replace(")", "") + ": " + e["description"] for e in entity_rows()]
    ev = mean_pool(model, [hf_tokenizer.encode(t, truncation=True, max_length=128) for t in texts])
    om, oe = ner4el_vectors(tmp_path, model_dir, "--dtype", dtype)
    cm, ce = cosines(om, mv), cosines(oe, ev)
    print(f"{dtype}: min cosine with fp32 mention {cm.min():.5f}, entity {ce.min():.5f}; "
          f"max |diff| {np.abs(om - mv).max():.3f}")
    assert cm.min() > floor and ce.min() > floor
    assert np.abs(om - mv).max() > 1e-5  # the products ran in the reduced type
