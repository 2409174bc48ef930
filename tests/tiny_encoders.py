"""Tiny random-weight encoders of each architecture the student supports, built offline.

No hub is reachable here, so each test model is made from a config and a tokenizer trained on a few hundred
real CoNLL-2003 sentences: WordPiece (BERT cased and uncased, DistilBERT, ELECTRA), byte-level BPE (RoBERTa)
and a SentencePiece-style Unigram with Metaspace (DeBERTa-v2/v3). They stand for the real checkpoints a user
would name with `--model` (bert-base-cased, roberta-base, microsoft/deberta-v3-base, distilbert-base-cased,
google/electra-small-discriminator): same classes, same tokenizer kinds and special tokens, tiny sizes."""
from __future__ import annotations

from pathlib import Path

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

from ner_distill.student import LABELS

ARCHITECTURES = ("bert", "bert-uncased", "roberta", "deberta-v2", "distilbert", "electra")
SIZE = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, max_position_embeddings=256)


def _wordpiece(texts, lowercase: bool) -> Tokenizer:
    tk = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tk.normalizer = normalizers.BertNormalizer(lowercase=lowercase, strip_accents=lowercase)
    tk.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tk.decoder = decoders.WordPiece()
    tk.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=800, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    cls, sep = tk.token_to_id("[CLS]"), tk.token_to_id("[SEP]")
    tk.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                      special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return tk


def _byte_bpe(texts) -> Tokenizer:
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    tk.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=800, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
                                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tk.post_processor = processors.RobertaProcessing(("</s>", tk.token_to_id("</s>")), ("<s>", tk.token_to_id("<s>")))
    return tk


def _unigram(texts) -> Tokenizer:
    tk = Tokenizer(models.Unigram())
    tk.normalizer = normalizers.Sequence([normalizers.Nmt(), normalizers.NFKC()])
    tk.pre_tokenizer = pre_tokenizers.Metaspace()
    tk.decoder = decoders.Metaspace()
    tk.train_from_iterator(texts, trainers.UnigramTrainer(vocab_size=800, unk_token="[UNK]",
                                                          special_tokens=["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"]))
    cls, sep = tk.token_to_id("[CLS]"), tk.token_to_id("[SEP]")
    tk.post_processor = processors.TemplateProcessing(single="[CLS]:0 $A:0 [SEP]:0", pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
                                                      special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return tk


def build(arch: str, texts: list[str], dest: Path) -> Path:
    "A tiny `arch` token classifier with its own trained tokenizer, saved as a model folder in `dest`."
    import torch
    from transformers import (AutoModelForTokenClassification, BertConfig, BertTokenizerFast, DebertaV2Config,
                              DebertaV2TokenizerFast, DistilBertConfig, DistilBertTokenizerFast, ElectraConfig,
                              ElectraTokenizerFast, RobertaConfig, RobertaTokenizerFast)
    torch.manual_seed(0)
    bert_special = dict(unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]")
    if arch in ("bert", "bert-uncased", "distilbert", "electra"):
        lower = arch == "bert-uncased"
        cls = {"distilbert": DistilBertTokenizerFast, "electra": ElectraTokenizerFast}.get(arch, BertTokenizerFast)
        tok = cls(tokenizer_object=_wordpiece(texts, lower), do_lower_case=lower, **bert_special)
    elif arch == "roberta":
        tok = RobertaTokenizerFast(tokenizer_object=_byte_bpe(texts), bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   sep_token="</s>", cls_token="<s>", pad_token="<pad>", mask_token="<mask>")
    elif arch == "deberta-v2":
        tok = DebertaV2TokenizerFast(tokenizer_object=_unigram(texts), **bert_special)
    else: raise ValueError(arch)
    V = len(tok)
    labels = dict(num_labels=len(LABELS), id2label=dict(enumerate(LABELS)), label2id={l: i for i, l in enumerate(LABELS)})
    if arch in ("bert", "bert-uncased"): cfg = BertConfig(vocab_size=V, **SIZE, **labels)
    elif arch == "electra": cfg = ElectraConfig(vocab_size=V, embedding_size=16, **SIZE, **labels)   # embeddings projected to hidden
    elif arch == "roberta": cfg = RobertaConfig(vocab_size=V, pad_token_id=tok.pad_token_id, bos_token_id=0, eos_token_id=2,
                                                **{**SIZE, "max_position_embeddings": 260}, **labels)
    elif arch == "deberta-v2": cfg = DebertaV2Config(vocab_size=V, relative_attention=True, position_biased_input=False,
                                                     pos_att_type=["p2c", "c2p"], max_relative_positions=-1, position_buckets=64,
                                                     type_vocab_size=0, **SIZE, **labels)
    else: cfg = DistilBertConfig(vocab_size=V, dim=32, n_layers=2, n_heads=2, hidden_dim=64, max_position_embeddings=256, **labels)
    model = AutoModelForTokenClassification.from_config(cfg)
    folder = dest/arch
    model.save_pretrained(folder); tok.save_pretrained(folder)
    return folder
