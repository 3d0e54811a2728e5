"""The course map (notebooks, what feeds what), the road-map figure and the bilingual glossary."""

from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch


@dataclass(frozen=True)
class Lesson:
    number: str
    slug: str
    title: str
    idea: str  # one line: what the notebook builds
    feeds: tuple[str, ...] = ()  # numbers of the notebooks that build on this one


LESSONS = (
    Lesson("00", "welcome", "Welcome", "set-up, road map, widgets, glossary", ("01", "05")),
    Lesson("01", "word_vectors", "Word vectors", "one-hot, PPMI+SVD, skip-gram", ("02", "04")),
    Lesson("02", "language_models", "Language models & LSTMs", "n-grams, perplexity, LSTM LM", ("03", "08")),
    Lesson("03", "elmo_bilm", "The ELMo biLM", "forward + backward LSTM LMs", ("04", "09")),
    Lesson("04", "using_elmo", "Using ELMo", "scalar mix, probing, senses", ("10", "12")),
    Lesson("05", "attention", "Attention", "soft lookup, scaling, masks", ("06",)),
    Lesson("06", "multi_head_self_attention", "Multi-head self-attention", "Q, K, V and heads", ("07",)),
    Lesson("07", "positional_encoding", "Positional encoding", "order for an order-blind layer", ("08",)),
    Lesson("08", "transformer_block", "The Transformer block", "Add & Norm, FFN, seq2seq", ("09", "12")),
    Lesson("09", "bert_pretraining", "BERT pre-training", "WordPiece, MLM + NSP", ("10",)),
    Lesson("10", "fine_tuning_bert", "Fine-tuning BERT", "four task types, results table, learning curves", ("11", "12")),
    Lesson("11", "looking_inside", "Looking inside", "heads, layers, deep vs shallow, real checkpoints", ()),
    Lesson("12", "design_choices", "Design choices", "GPT vs ELMo vs BERT, ablations", ()),
)

# Where each lesson's box sits on the road map: (column, row). Row 0 is the recurrent track,
# row 2 the attention track; they meet at BERT.
_LAYOUT = {
    "00": (0, 1), "01": (1, 0), "02": (2, 0), "03": (3, 0), "04": (4, 0),
    "05": (1, 2), "06": (2, 2), "07": (3, 2), "08": (4, 2),
    "09": (5, 1), "10": (6, 1), "11": (7, 0), "12": (7, 2),
}


def plot_road_map(figsize: tuple[float, float] = (12, 5.2), dpi: int = 80):
    """The thirteen notebooks as boxes, arrows from each idea to the notebooks that build on it."""
    fig, ax = plt.subplots(figsize=figsize, dpi=dpi)
    w, h = 1.12, 0.9
    centre = {n: (c * 1.25, 2.4 - r * 1.2) for n, (c, r) in _LAYOUT.items()}
    fill = {0: "#dbe9f6", 1: "#f6d5e5", 2: "#dcefd9"}
    boxes = {}
    for lesson in LESSONS:
        x, y = centre[lesson.number]
        colour = "#eeeeee" if lesson.number == "00" else fill[_LAYOUT[lesson.number][1]]
        boxes[lesson.number] = ax.add_patch(FancyBboxPatch(
            (x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.03", fc=colour, ec="#555555", lw=0.8))
        title = textwrap.fill(lesson.title, 16)  # 8 pt at least, the course's smallest text
        ax.text(x, y + 0.43, f"{lesson.number}\n{title}", ha="center", va="top", fontsize=8, weight="bold")
        ax.text(x, y - 0.42, textwrap.fill(lesson.idea, 20), ha="center", va="bottom", fontsize=8,
                color="#333333")
    for lesson in LESSONS:
        for target in lesson.feeds:
            (c0, r0), (c1, r1) = _LAYOUT[lesson.number], _LAYOUT[target]
            bend = 0.0 if (r0 == r1 and c1 - c0 == 1) or abs(c1 - c0) == 1 else (0.25 if r1 >= r0 else -0.25)
            ax.annotate("", xy=centre[target], xytext=centre[lesson.number],
                        arrowprops=dict(arrowstyle="-|>", color="#777777", lw=0.8, shrinkA=0, shrinkB=0,
                                        patchA=boxes[lesson.number], patchB=boxes[target],
                                        connectionstyle=f"arc3,rad={bend}"))
    ax.text(3.1, 3.08, "recurrent track: from one vector per word to contextual vectors from LSTMs",
            ha="center", fontsize=8)
    ax.text(3.1, -0.75, "attention track: from a soft lookup to the Transformer", ha="center", fontsize=8)
    ax.text(4.9, -1.1, "data for every notebook: the toy world, a generated corpus with gold labels "
            "(or real text, through one parameter)", ha="center", fontsize=8, style="italic")
    ax.set_xlim(-0.6, 9.4)
    ax.set_ylim(-1.25, 3.25)
    ax.axis("off")
    fig.tight_layout()
    return fig


@dataclass(frozen=True)
class Term:
    english: str
    chinese: str
    meaning: str
    notebook: str


GLOSSARY = (
    Term("one-hot vector", "独热向量", "a vector with a single 1 at the word's index", "01"),
    Term("word embedding", "词嵌入", "a dense learned vector for each word type", "01"),
    Term("distributional hypothesis", "分布假说", "words in similar contexts have similar meanings", "01"),
    Term("co-occurrence matrix", "共现矩阵", "counts of word pairs seen within a window", "01"),
    Term("PPMI", "正点互信息", "positive pointwise mutual information of a word pair", "01"),
    Term("singular value decomposition (SVD)", "奇异值分解", "factorizes a matrix; its top part gives dense vectors", "01"),
    Term("skip-gram", "跳字模型", "predict context words from the centre word", "01"),
    Term("negative sampling", "负采样", "train against a few random 'noise' words instead of the whole vocabulary", "01"),
    Term("cosine similarity", "余弦相似度", "the cosine of the angle between two vectors", "01"),
    Term("word analogy", "词类比", "a : b :: c : ?, solved by vector arithmetic", "01"),
    Term("polysemy", "一词多义", "one word type with several senses (bank: money / river)", "01"),
    Term("word type / token", "词型 / 词例", "a vocabulary entry / one occurrence of it in text", "01"),
    Term("language model", "语言模型", "a probability distribution over word sequences", "02"),
    Term("n-gram", "N 元语法", "a model that conditions on the previous n-1 words", "02"),
    Term("smoothing", "平滑", "giving unseen events some probability", "02"),
    Term("perplexity", "困惑度", "exp of the mean negative log-likelihood per token", "02"),
    Term("recurrent neural network (RNN)", "循环神经网络", "a network that reads a sequence one step at a time", "02"),
    Term("long short-term memory (LSTM)", "长短期记忆网络", "an RNN with gates and a memory cell", "02"),
    Term("back-propagation through time", "随时间反向传播", "gradients of an RNN unrolled over its steps", "02"),
    Term("bidirectional", "双向", "reading a sequence left-to-right and right-to-left", "03"),
    Term("bidirectional language model (biLM)", "双向语言模型", "ELMo's forward and backward LMs trained jointly", "03"),
    Term("character CNN", "字符卷积网络", "builds a word vector from its characters", "03"),
    Term("highway layer", "高速公路层", "a gated layer that can pass its input through unchanged", "03"),
    Term("contextual embedding", "上下文词向量", "a vector for a token that depends on its sentence", "04"),
    Term("feature-based transfer", "基于特征的迁移", "use a frozen model's vectors as input features", "04"),
    Term("scalar mix", "标量混合", "ELMo's softmax-weighted sum of layers, scaled by γ", "04"),
    Term("probing", "探测", "a small classifier on frozen features to ask what a layer encodes", "04"),
    Term("long-range dependency", "长距离依赖", "a word that decides another many words away", "04"),
    Term("attention", "注意力", "a weighted average of values, weights from query-key scores", "05"),
    Term("query / key / value", "查询 / 键 / 值", "what is asked / what is matched / what is returned", "05"),
    Term("scaled dot-product attention", "缩放点积注意力", "softmax(QKᵀ/√d)V", "05"),
    Term("additive attention", "加性注意力", "scores from a small feed-forward net (Bahdanau)", "05"),
    Term("mask", "掩码", "marks the positions a query may not attend to", "05"),
    Term("self-attention", "自注意力", "attention of a sequence to itself", "06"),
    Term("multi-head attention", "多头注意力", "several attentions in parallel subspaces, concatenated", "06"),
    Term("positional encoding", "位置编码", "adds word order to an order-blind model", "07"),
    Term("permutation equivariance", "置换等变性", "shuffling the input shuffles the output the same way", "07"),
    Term("residual connection", "残差连接", "adds a layer's input to its output", "08"),
    Term("layer normalization", "层归一化", "normalizes each vector to zero mean and unit variance", "08"),
    Term("feed-forward network (FFN)", "前馈网络", "the position-wise two-layer MLP of a Transformer block", "08"),
    Term("encoder / decoder", "编码器 / 解码器", "reads the input / writes the output one token at a time", "08"),
    Term("Transformer", "Transformer（变换器）", "a network of attention and FFN blocks, no recurrence", "08"),
    Term("greedy decoding", "贪心解码", "always emit the most probable next token", "08"),
    Term("WordPiece", "WordPiece 子词切分", "splits rare words into frequent pieces (##able)", "09"),
    Term("pre-training", "预训练", "training on unlabelled text before the task", "09"),
    Term("masked language model (MLM)", "掩码语言模型", "predict hidden words from both sides", "09"),
    Term("next sentence prediction (NSP)", "下一句预测", "does sentence B follow sentence A?", "09"),
    Term("segment embedding", "片段嵌入", "tells BERT which sentence a token belongs to", "09"),
    Term("fine-tuning", "微调", "training the whole pre-trained model on the task", "10"),
    Term("sequence classification", "序列分类", "one label per sentence (or pair), from [CLS]", "10"),
    Term("token classification", "词元分类", "one label per token, e.g. part of speech", "10"),
    Term("extractive question answering", "抽取式问答", "answer = a span of the context", "10"),
    Term("learning curve", "学习曲线", "score against the number of labelled training examples", "10"),
    Term("deep bidirectionality", "深层双向", "every layer reads both sides (BERT), not two one-way models side by side",
         "11"),
    Term("attention head", "注意力头", "one of the parallel attentions of a layer", "11"),
    Term("ablation", "消融实验", "remove one part and measure what it was worth", "12"),
    Term("autoregressive (left-to-right) model", "自回归模型", "predicts each token from the ones before it (GPT)", "12"),
)


def glossary_markdown(terms: tuple[Term, ...] = GLOSSARY) -> str:
    """The glossary as a Markdown table (text escaped for HTML)."""
    rows = ["| English | 中文 | meaning | notebook |", "|---|---|---|---|"]
    for t in terms:
        cells = (html.escape(t.english), html.escape(t.chinese), html.escape(t.meaning), t.notebook)
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows)
