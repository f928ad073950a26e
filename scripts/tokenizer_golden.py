#!/usr/bin/env python3
"""Golden data for wick's tokenizer tests, made with Hugging Face `tokenizers`.

For every real tokenizer in ../shared/testdata/tokenizers and for small tokenizers trained here
(WordPiece, Unigram, classic BPE: the components the real ones do not exercise), it records
encode() ids with and without special tokens, decode() with and without skipping special tokens,
and DecodeStream step outputs, over curated edge cases plus seeded random strings.

Usage: python3 scripts/tokenizer_golden.py  (writes tests/data/tokenizer/)
Needs: pip install tokenizers==0.23.3
"""
import json
import lzma
import os
import random
import sys

import tokenizers
from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from tokenizers.decoders import DecodeStream

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "testdata", "tokenizers")
OUT = os.path.join(ROOT, "tests", "data", "tokenizer")

CURATED = [
    "",
    " ",
    "Hello world",
    "Hello, world! How are you doing today?",
    "  leading and trailing spaces  ",
    "multiple     spaces\tand\ttabs\n\nnewlines\r\nwindows",
    "I'm sure they'll say it's fine, we've done what we'd do. DON'T SHOUT'S",
    "Numbers: 0 1 12 123 1234 12345 3.14159 -42 1,000,000 2024-06-01",
    "Emoji: 😀👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️",
    "Chinese: 你好，世界！我们今天去公园。",
    "Japanese: こんにちは、カタカナ、漢字まじり。",
    "Korean: 안녕하세요 세계",
    "Arabic: مرحبا بالعالم",
    "Hindi: नमस्ते दुनिया",
    "Russian: Привет, мир! ЁЖИК",
    "Greek: Καλημέρα κόσμε ΣΊΣΥΦΟΣ",
    "Accents: café naïve résumé Ångström ﬁ ﬀ ① Ⅻ",
    "Combining: e\u0301 a\u0308 n\u0303 (decomposed)",
    "Code: def f(x):\n    return x**2 + 1  # comment\n\tif a != b: pass",
    "JSON: {\"key\": [1, 2, {\"nested\": null}]}",
    "URL: https://example.com/path?q=1&r=two#frag",
    "Punct!!! ??? ... --- ___ *** ''' \"\"\" ```",
    "Whitespace zoo:\u00a0nbsp\u2003em\u3000ideo\u2028ls\u0085nel\u200bzwsp\u180emvs",
    "Line\n\n\n\nbreaks\n \n \nend\n",
    "Mixed 123abc ABC123 a1b2c3 ４５６ ٣٤٥",
    "Ünïcödé ÜBER straße STRASSE İstanbul",
    "Math: ∑∫√∞ ≤ ≥ ≠ ± × ÷ ∂",
    "Control\x01chars\x7f and \x1b[0m escapes",
    "Tab\tseparated\tvalues\t",
    "a",
    "ab",
    "The quick brown fox jumps over the lazy dog. " * 3,
    "A" * 300,
    "😀" * 20,
    "hello\u2581world ▁▁ lower▁bar",
    "<unk> <s> </s> [UNK] [CLS] <pad>",
    "yesterday Yesterday YESTERDAY",
]

# Pools for random strings: each random string mixes a few of them.
POOLS = [
    "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789", " ", "  \t\n\r",
    ".,;:!?'\"()[]{}<>-_/\\@#$%^&*+=~`|", "éèêëàâäôöûüçñßøåæœ", "你好世界中文字符测试", "こんにちはカタカナ",
    "안녕하세요", "مرحبا", "नमस्ते", "Привет", "αβγδεζηθ", "😀👍🏽🎉🚀❤️", "\u0301\u0308\u0303",
    "\u00a0\u2003\u3000\u2028\u0085\u200b", "▁", "'s'll've're'd'm't",
]


def random_strings(seed, count, specials):
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        pools = rng.sample(POOLS, rng.randint(1, 4))
        if specials and rng.random() < 0.3:
            pools.append(None)
        parts = []
        for _ in range(rng.randint(1, 12)):
            pool = rng.choice(pools)
            if pool is None:
                parts.append(rng.choice(specials))
            else:
                parts.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 8))))
        out.append("".join(parts))
    return out


def special_mix(tok):
    added = [t.content for t in tok.get_added_tokens_decoder().values()][:6]
    if not added:
        return []
    texts = ["".join(added), " ".join(added), f"{added[0]}hello {added[-1]} world{added[0]}\n x"]
    texts += [f"  {a}  text{a}text " for a in added[:3]]
    return texts


def stream(tok, ids, skip):
    ds = DecodeStream(skip_special_tokens=skip)
    return [ds.step(tok, i) for i in ids]


def golden(tok, name, texts):
    cases = []
    for k, text in enumerate(texts):
        ids = tok.encode(text, add_special_tokens=True).ids
        plain = tok.encode(text, add_special_tokens=False).ids
        case = {
            "text": text,
            "ids": ids,
            "ids_no_special": plain,
            "decode": tok.decode(ids, skip_special_tokens=False),
            "decode_skip_special": tok.decode(ids, skip_special_tokens=True),
        }
        if k < len(CURATED) + 6:  # streaming for curated cases only, to keep files small
            case["stream"] = stream(tok, ids, False)
            case["stream_skip_special"] = stream(tok, ids, True)
        cases.append(case)
    return {"name": name, "tokenizers_version": tokenizers.__version__,
            "vocab_size": tok.get_vocab_size(with_added_tokens=True), "cases": cases}


def write(name, data):
    path = os.path.join(OUT, f"golden_{name}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
    print(f"{path}: {os.path.getsize(path)} bytes, {len(data['cases'])} cases")


def gpt2_tokenizer():
    d = os.path.join(SHARED, "gpt2")
    vocab = json.loads(lzma.open(os.path.join(d, "encoder.json.xz")).read())
    lines = lzma.open(os.path.join(d, "vocab.bpe.xz")).read().decode("utf-8").split("\n")
    merges = [tuple(l.split(" ")) for l in lines[1:] if l]
    tok = Tokenizer(models.BPE(vocab, merges))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    return tok


TRAIN_CORPUS = [t for t in CURATED if t.strip()] + [
    "the cat sat on the mat and the dog ate the bone",
    "tokenizers split text into pieces that a model can embed",
    "we have been reading books yesterday and today",
    "numbers like 2024 and 1999 appear in dates and prices",
    "She sells sea shells by the sea shore; the shells she sells are sea shells.",
] * 3


def trained_tokenizers():
    """Small tokenizers covering WordPiece, Unigram, classic BPE and the rarer components."""
    out = {}
    wp = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=30))
    wp.normalizer = normalizers.BertNormalizer(lowercase=True)
    wp.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    wp.train_from_iterator(TRAIN_CORPUS, trainers.WordPieceTrainer(
        vocab_size=400, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    wp.post_processor = processors.BertProcessing(("[SEP]", wp.token_to_id("[SEP]")),
                                                  ("[CLS]", wp.token_to_id("[CLS]")))
    wp.decoder = decoders.WordPiece()
    wp.add_tokens([AddedToken("yesterday", normalized=True, single_word=True),
                   AddedToken("[DAY]", normalized=False, lstrip=True, rstrip=True)])
    out["wordpiece"] = wp

    uni = Tokenizer(models.Unigram())
    uni.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(
        tokenizers.Regex(r"\s+"), " "), normalizers.Strip()])
    uni.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="first")
    uni.train_from_iterator(TRAIN_CORPUS, trainers.UnigramTrainer(
        vocab_size=300, special_tokens=["<pad>", "<unk>", "<s>", "</s>"], unk_token="<unk>"))
    uni.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", uni.token_to_id("<s>")), ("</s>", uni.token_to_id("</s>"))])
    uni.decoder = decoders.Metaspace(prepend_scheme="first")
    uni.add_special_tokens([AddedToken("<mask>", lstrip=True, special=True)])
    out["unigram"] = uni

    # Unigram with byte fallback: append <0xNN> pieces to the trained vocab.
    j = json.loads(uni.to_str())
    j["model"]["byte_fallback"] = True
    j["model"]["vocab"] += [[f"<0x{b:02X}>", -20.0] for b in range(256)]
    j["decoder"] = {"type": "Sequence", "decoders": [
        {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": True},
        {"type": "ByteFallback"}, {"type": "Fuse"}]}
    out["unigram_bytes"] = Tokenizer.from_str(json.dumps(j))

    bpe = Tokenizer(models.BPE(unk_token="<unk>", end_of_word_suffix="</w>", continuing_subword_prefix="##"))
    bpe.normalizer = normalizers.Sequence([normalizers.NFKD(), normalizers.StripAccents(), normalizers.Lowercase()])
    bpe.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace(), pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.Punctuation()])
    bpe.train_from_iterator(TRAIN_CORPUS, trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<unk>", "<mask>"], end_of_word_suffix="</w>", continuing_subword_prefix="##"))
    bpe.decoder = decoders.BPEDecoder(suffix="</w>")
    bpe.add_special_tokens([AddedToken("<mask>", lstrip=True, rstrip=True)])
    out["bpe_suffix"] = bpe
    return out


# Regex classes whose Unicode meaning must agree between HF's Oniguruma and wick's PCRE2.
REGEX_CLASSES = [r"\s", r"\S", r"\w", r"\W", r"\d", r"\p{L}", r"\p{N}", r"\p{P}", r"\p{S}", r"\p{M}",
                 r"\p{Lu}", r"\p{Ll}", r"\p{Lo}", r"[^\s\p{L}\p{N}]", r"[^\r\n\p{L}\p{N}]"]

# Byte strings for lossy UTF-8 decoding (Python's 'replace' handler = Rust from_utf8_lossy).
LOSSY_BYTES = ["41", "c3a9", "c3", "e282", "e282ac", "f09f98", "f09f9880", "ff", "c0af", "eda080",
               "f4908080", "e0809f", "41ff42", "f0f0f0", "e2e282ac", "80808041", "c328", "f8888080",
               "edbfbf", "efbfbd", "f09f98f09f9880"]


def ranges(flags):
    out, start = [], None
    for cp, on in enumerate(flags):
        if on and start is None:
            start = cp
        if not on and start is not None:
            out.append([start, cp - 1])
            start = None
    if start is not None:
        out.append([start, len(flags) - 1])
    return out


def unicode_golden():
    # Every scalar value once; the characters the class matches are those "removed" drops.
    # Offsets from pre_tokenize_str count characters.
    cps = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    text = "".join(map(chr, cps))
    classes = {}
    for pattern in REGEX_CLASSES:
        matched = pre_tokenizers.Split(tokenizers.Regex(pattern), "removed").pre_tokenize_str(text)
        kept = set()
        for _, (b, e) in matched:
            kept.update(range(b, e))
        flags = [False] * 0x110000
        for i, c in enumerate(cps):
            flags[c] = i not in kept
        classes[pattern] = ranges(flags)
    lossy = [{"hex": h, "text": bytes.fromhex(h).decode("utf-8", "replace")} for h in LOSSY_BYTES]
    path = os.path.join(OUT, "golden_unicode.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"classes": classes, "lossy": lossy}, f, ensure_ascii=False, separators=(",", ":"))
    print(f"{path}: {os.path.getsize(path)} bytes")


def main():
    if tokenizers.__version__ != "0.23.3":
        print(f"warning: made with tokenizers 0.23.3, this is {tokenizers.__version__}", file=sys.stderr)
    os.makedirs(OUT, exist_ok=True)
    unicode_golden()
    for seed, name in enumerate(["llama2", "llama3", "qwen3", "gemma3", "deepseek_v3", "gptoss"]):
        tok = Tokenizer.from_str(lzma.open(os.path.join(SHARED, name, "tokenizer.json.xz")).read().decode("utf-8"))
        specials = [t.content for t in tok.get_added_tokens_decoder().values()][:20]
        write(name, golden(tok, name, CURATED + special_mix(tok) + random_strings(seed, 180, specials)))
    write("gpt2", golden(gpt2_tokenizer(), "gpt2", CURATED + random_strings(100, 180, [])))
    for seed, (name, tok) in enumerate(trained_tokenizers().items()):
        path = os.path.join(OUT, f"{name}.tokenizer.json")
        tok.save(path)
        specials = [t.content for t in tok.get_added_tokens_decoder().values()]
        write(name, golden(tok, name, CURATED + special_mix(tok) + random_strings(200 + seed, 120, specials)))


if __name__ == "__main__":
    main()
