"""Infer a schema proposal from a table, coerce labels, and validate a config against the data.

Inference only proposes; every choice can be overridden in the config. Validation lists every problem at once.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mtlrec import fmt
from mtlrec.config import DataConfig, ExperimentConfig, TaskSpec
from mtlrec.errors import MtlrecError
from mtlrec.fixes import cli_column, how_to, parse_value
from mtlrec.io import duplicate_names
from mtlrec.leakage import Leak, find_leaks
from mtlrec.tokens import lists_as_text, multi_valued

_USER_NAMES = {
    "user", "userid", "uid", "customer", "customerid", "member", "memberid", "visitor", "visitorid", "account",
    "accountid", "reviewer", "reviewerid", "client", "clientid", "buyer", "buyerid", "viewer", "viewerid",
    "cust", "custid",  # Netflix Prize's Cust_Id
    "household", "householdid",  # retail panels (Dunnhumby's household_key)
}  # fmt: skip
_ITEM_NAMES = {
    "item", "itemid", "iid", "product", "productid", "movie", "movieid", "video", "videoid", "article",
    "articleid", "song", "songid", "track", "trackid", "sku", "asin", "photo", "photoid", "post", "postid",
    "doc", "docid", "ad", "adid", "content", "contentid", "business", "businessid", "book", "bookid", "isbn",
    "joke", "jokeid",  # Jester's joke_id
    "isbn10", "isbn13", "ean", "upc", "gtin",  # product codes (Goodbooks' isbn13, written 9.78e+12)
}  # fmt: skip
# Item ids of public logs, taken only when no column has one of the names above (a poi_id beside an item_id is a
# feature): Taobao display ads (adgroup_id), WeChat Channels (feedid), MIND (news_id), Meituan-like (poi_id), ad logs
# (creative_id), and the seller of a log of user-seller pairs (Tmall's repeat buyers: user_id, merchant_id, label,
# where the label is about that merchant, so GAUC compares a user's merchants and recommendations rank them; beside
# an item_id, the seller is a feature). Not app_id (Avazu's is the context an ad was shown in) nor artist_id (beside
# a track).
_MORE_ITEM_NAMES = {
    "adgroupid", "feedid", "newsid", "poiid", "creativeid", "noteid", "goodsid", "listingid", "recipeid",
    "merchantid", "sellerid", "shopid",
    "venueid", "locationid", "placeid",  # check-in logs: Foursquare's venueId, Gowalla's location_id
}  # fmt: skip
# Words after an id that say how it was written, not what it names: Spotify's track_id_clean, user_idx, item_hash.
# Not "index": item_index may be a position in a list shown.
_ID_QUALIFIERS = {
    "clean", "cleaned", "hash", "hashed", "raw", "encoded", "enc", "str", "orig", "original", "idx", "uuid", "guid",
    "uri",  # Spotify's track_uri
}  # fmt: skip
# Of those, the ones that are ids themselves; the others (clean, raw, str...) also qualify text (content_clean), so
# they are stripped only where what they follow ends in an id word (track_id_clean).
_ID_WORD_QUALIFIERS = {"hash", "hashed", "encoded", "enc", "idx", "uuid", "guid", "uri"}
_TIME_NAMES = {
    "timestamp",
    "time",
    "ts",
    "datetime",
    "date",
    "eventtime",
    "createdat",
    "event_time",
    "unixtime",
}
# What an id column is for, so why it needs a value in every row.
_ID_USES = {
    "user": "GAUC, ranking metrics and recommendations group rows by user",
    "item": "recommendations rank the items it names and leave out those a user has seen",
}
# Why a constant id column cannot be the user/item column.
_ID_NEEDS = (
    ("user", _USER_NAMES, "GAUC, the user split and ranking metrics need several users"),
    ("item", _ITEM_NAMES, "ranking metrics and recommendations need several items"),
)
_TIME_SQUASHED = {re.sub(r"[^a-z0-9]", "", t) for t in _TIME_NAMES}
# Words that make a name time-like when the values are epoch numbers or dates too (time_ms, created_at, event_ts).
_TIME_WORDS = {"time", "ts", "timestamp", "datetime", "date", "created", "updated", "epoch", "unixtime", "hour"}
# Words that make a name a date when its values are YYYYMMDD codes: Hive's and ODPS's partition column ds (20190101),
# pt, dt, event_day.
_DATE_CODE_WORDS = {"ds", "dt", "pt", "day"}
# Words that make a click- or rating-named column a statistic about past behaviour (a feature), not a label.
_STAT_WORDS = {
    "cnt", "count", "counts", "num", "number", "avg", "mean", "median", "std", "sum", "min", "max",
    "hist", "history", "historical", "prev", "previous", "last", "before", "past", "pct", "percent", "freq",
    "verified",  # Amazon's verified_purchase: a review's flag, not the outcome of its event
}  # fmt: skip
# Tokens that mark a label column. Regression tokens make a numeric label a regression task.
_BINARY_LABEL_TOKENS = {
    "click", "clicked", "clk", "like", "liked", "follow", "followed", "purchase", "purchased", "buy", "bought",
    "order", "ordered", "cart", "convert", "converted", "conversion", "cvr", "ctr", "share", "shared", "comment",
    "commented", "favorite", "favourite", "fav", "finish", "finished", "complete", "completed", "label",
    "target", "is_click", "collect", "download", "install", "subscribe", "skip", "dislike", "engaged", "forward",
    "forwarded", "repost", "retweet", "reply", "bookmark", "hate", "long_view", "longview", "skipped",
    "reordered", "reorder", "read", "reviewed",  # Instacart's reordered; Goodreads' is_read and is_reviewed
    "trade", "traded", "attributed",  # IJCAI-18 Alimama's is_trade; TalkingData's is_attributed (the app installed)
    "visit", "visited",  # Criteo Uplift's visit (a site visit after the ad: the first step of its funnel)
}  # fmt: skip
# Label words that also name ordinary columns (a visit counter, the page visited): a label only when 0/1.
_BINARY_ONLY_TOKENS = {"visit", "visited"}
# Counts that follow the event, named so exactly (user_play_count is a statistic of the past): Taste Profile's
# play_count, Amazon Reviews 2023's helpful_vote (votes cast later).
_COUNT_LABEL_TOKENS = {"play_count", "playcount", "listen_count", "listencount", "helpful_vote", "helpful_votes"}
_REGRESSION_LABEL_TOKENS = {"watch_time", "watchtime", "dwell", "dwell_time", "play_time", "playtime", "play_duration", "rating",
                            "stay_time", "view_time", "revenue", "gmv", "watch", "listen_time"} | _COUNT_LABEL_TOKENS  # fmt: skip
_COUNT_LABEL_SQUASHED = {t.replace("_", "") for t in _COUNT_LABEL_TOKENS}
# Whole names of a rating label, too plain to count as a token inside other names (overall_rank, stars_count).
_REGRESSION_LABEL_NAMES = {"overall", "stars", "star"}  # Amazon reviews' rating; Yelp's; Douban's (1-5)
# Whole names of counts that follow the event, other users' votes on a review (Yelp's useful, funny and cool, Amazon
# 2018's vote) or a listener's plays: outcomes, the usual extra tasks of these datasets, not inputs.
_COUNT_LABEL_NAMES = {"useful", "funny", "cool", "vote"}  # not votes or plays: a film's or a song's popularity
# Words before "id" in an id column written as one word (visitorid, transactionid): a category, never a number to
# standardise, even when the name has no separator (a request key such as sessionid is ignored: _REQUEST_KEYS).
_ID_PREFIXES = {
    "user", "item", "visitor", "transaction", "session", "reviewer", "client", "account", "order", "event", "device",
    "campaign", "creative", "category", "cat", "shop", "store", "seller", "brand", "author", "channel", "query",
    "request", "impression", "display", "page", "site", "app", "ad", "product", "customer", "member", "article",
    "video", "movie", "song", "track", "post", "doc", "content", "business", "book", "photo", "group", "city", "seg",
    "parent", "genre", "artist", "publisher", "vendor", "supplier", "department", "aisle", "family", "tag", "topic",
}  # fmt: skip
# Keys of one request, impression or session, each shared by the few rows shown together (MIND's impression_id,
# Outbrain's display_id, Expedia's srch_id), with what they key: an embedding per key learns nothing for the next one.
_REQUEST_KEYS = {
    "impressionid": "impression", "impid": "impression", "displayid": "display", "requestid": "request",
    "reqid": "request", "sessionid": "session", "queryid": "query", "qid": "query", "searchid": "search",
    "srchid": "search", "pageviewid": "page-view", "orderid": "order", "basketid": "basket", "cartid": "cart",
    "orderno": "order", "invoiceno": "invoice", "invoiceid": "invoice",  # Online Retail's InvoiceNo: a basket
    "invoice": "invoice", "invoicenumber": "invoice",  # Online Retail II (not order_number: Instacart's n-th order)
}  # fmt: skip
# Numeric columns are read in blocks of at most this many values (32 MB of float64): a table may have thousands of
# columns, and one conversion per block instead of per column keeps it fast; the cap keeps a tall table's copy small.
BLOCK_VALUES = 1 << 22
# Values beyond this are no measurement (a placeholder such as 1e308): their squares overflow float64 (above 1.3e154),
# so a standard deviation over them is inf. A feature's are missing values; a label's are refused.
TOO_LARGE = 1e150

# Accepted spellings of a binary label, mapped to 0/1. Anything else in a binary label is a problem.
# Also as spreadsheets write them in other languages (German Excel's WAHR/FALSCH, French VRAI/FAUX...).
_TRUE_WORDS = {"1", "1.0", "true", "yes", "y", "t", "wahr", "ja", "vrai", "oui", "verdadero", "vero", "waar",
               "positive", "pos"}  # fmt: skip
_FALSE_WORDS = {"0", "0.0", "false", "no", "n", "f", "falsch", "nein", "faux", "non", "falso", "onwaar",
                "negative", "neg"}  # fmt: skip
# A tick in a spreadsheet, left empty where the event did not happen: 1 (once the empty rows are filled with 0). An
# "x"/empty click column was told to drop its empty rows, its every negative (an audit).
_TRUE_WORDS |= {"x", "✓", "✔", "☑", "✅", "*", "+"}
OTHER_SPELLINGS = "-1/1, true/false, yes/no, positive/negative, or a tick (x, ✓) beside 0 or empty"
SPELLINGS = f"0/1, {OTHER_SPELLINGS}"  # a binary label's spellings, as messages list them


@dataclass
class SchemaProposal:
    """What inference suggests: column roles, tasks, and why some columns are ignored."""

    data: DataConfig
    tasks: list[TaskSpec]
    ignored: dict[str, str] = field(default_factory=dict)  # column -> reason
    leaks: list[Leak] = field(default_factory=list)  # the features set aside because they give a task away
    notes: list[str] = field(default_factory=list)  # choices a person should know of (an id column passed over)
    flags: list[str] = field(default_factory=list)  # 0/1 columns proposed as features (see with_flags_note)


# Chinese words of Tianchi's and other exports' column names (用户ID, 商品ID, 行为类型, 是否点击), as the English words
# inference knows: only the matching reads them, the names stay as written. Longest first.
_CJK_WORDS = {
    "加入购物车": "cart", "时间戳": "timestamp", "用户": "user", "顾客": "customer", "顧客": "customer",
    "客户": "customer", "会员": "member", "會員": "member", "商品": "item", "物品": "item", "产品": "product",
    "產品": "product", "品类": "category", "类目": "category", "類別": "category", "行为": "behavior",
    "行為": "behavior", "类型": "type", "類型": "type", "时间": "time", "時間": "time", "日期": "date",
    "点击": "click", "點擊": "click", "购买": "buy", "購買": "buy", "收藏": "fav", "加购": "cart", "是否": "is",
    "评分": "rating", "評分": "rating", "价格": "price", "價格": "price", "店铺": "shop", "卖家": "seller",
    "编号": "id", "編號": "id",
}  # fmt: skip
_CJK = re.compile("|".join(sorted(map(re.escape, _CJK_WORDS), key=len, reverse=True)))


def _latin(name) -> str:
    """A column name with the Chinese words of _CJK_WORDS as English ones ('用户ID' reads 'user_ID')."""
    text = str(name)
    return _CJK.sub(lambda m: f"_{_CJK_WORDS[m.group()]}_", text) if not text.isascii() else text


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", _latin(name).lower())


def _parts(name: str) -> list[str]:
    """Lower-case words of a column name: "isClick" and "is_click" both give ["is", "click"]."""
    return [p for p in re.split(r"[^a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", _latin(name)).lower()) if p]


def _own_part(column) -> str:
    """A namespaced name's own part: SNAP's review/overall, product/productId (the name itself otherwise)."""
    return str(column).rsplit("/", 1)[-1]


def _is_named(column: str, names: set[str]) -> bool:
    if "/" in str(column):  # SNAP's product/productId, review/userId: named by their own part
        return _is_named(_own_part(column), names)
    squashed = _squash(column)
    if squashed in names or squashed.rstrip("s") in names:
        return True
    parts = _parts(column)
    if len(parts) > 1 and parts[-1] in ("key", "nbr"):
        # A key is an id: Dunnhumby's household_key, a warehouse's customer_key; so is Favorita's item_nbr (not
        # track_no, a track's place on its album).
        stem = "".join(parts[:-1])
        return stem in names or stem + "id" in names
    qualified = len(parts) > 1 and parts[-1] in _ID_QUALIFIERS
    id_word = False  # the qualifiers themselves say id (user_idx, item_hash), or what is left ends in id
    while len(parts) > 1 and parts[-1] in _ID_QUALIFIERS:
        id_word = id_word or parts[-1] in _ID_WORD_QUALIFIERS
        parts = parts[:-1]
    if len(parts) > 1 and parts[-1] == "sku" and "sku" in names:  # product_sku, Coveo's product_sku_hash: an item
        return "".join(parts[:-1]) in names
    # content_clean, title_raw: a cleaned text, not an id; track_id_clean, user_idx: an id.
    return qualified and (id_word or _id_named("_".join(parts))) and "".join(parts) in names


def _request_key(column: str) -> str | None:
    """What a request key names (session_id: "session"; Coveo's session_id_hash too), or None."""
    parts = _parts(column)
    while len(parts) > 1 and parts[-1] in _ID_WORD_QUALIFIERS:
        parts = parts[:-1]
    return _REQUEST_KEYS.get(_squash(column)) or _REQUEST_KEYS.get("".join(parts))


def _plural_only(column: str, names: set[str]) -> bool:
    """Whether `column` is named as one of `names` only as its plural ('items' for 'item')."""
    squashed = _squash(column)
    return squashed not in names and squashed.rstrip("s") in names


def _tokens(name: str) -> set[str]:
    lower = str(name).lower()
    parts = _parts(name)
    joined = {"_".join(parts[i : i + 2]) for i in range(len(parts) - 1)}
    return set(parts) | joined | {lower}


# Words that may surround a label token in a column name that is nothing but a label ("is_click", "y_purchase").
_LABEL_FILLERS = {"is", "has", "did", "was", "y", "flag", "not"}
# A label-named column whose values are binary spellings but for at most this share of rows is proposed as binary,
# so that validation lists the odd rows instead of the column silently becoming a feature or a regression.
MOSTLY_BINARY = 0.9
# ...unless more than this many distinct numbers are the odd values: a count (votes, plays), proposed as regression.
FEW_ODD_VALUES = 3
# ...in at least this share of the rows. Below it they are mistakes (a 0/1 click with -1, 2..5 in 1% of its rows):
# taken as binary, validation names the rows, while taken as a count the label would silently become a regression.
COUNT_SHARE = 0.05
# A text column whose values parse as numbers for at least this share of rows is proposed as numeric, so that
# validation lists the text rows (mixed types) instead of the column silently becoming a category.
MOSTLY_NUMERIC = 0.95
# An integer column named ..._id with distinct values in more than this share of the rows is a row id (sample_id).
ROW_ID_SHARE = 0.95
# An id recurs across users when over this share of a column's rows hold a value seen in several users' rows and
# over this share of the users hold several of its values (not a user attribute, constant per user): the item (or,
# beside an item column, the user) when no column is named as one. Judged on at most RECUR_ROWS rows.
RECUR_SHARE = 0.5
RECUR_ROWS = 200_000
# Words before _id that name an attribute, not the thing a log is about: category_id, city_id, group_id, genre_id.
_ATTRIBUTE_WORDS = {"group", "seg", "segment", "genre", "tag", "type", "class", "level", "status"}


def is_binary_spelling(value) -> bool:
    """True for one value of an accepted binary spelling: 0/1, -1, true/false, yes/no, y/n, t/f, positive/negative,
    a tick (x, ✓) (any case)."""
    if isinstance(value, bool | np.bool_):
        return True
    if isinstance(value, int | float | np.integer | np.floating):
        return value in (0, 1, -1)
    text = str(value).strip().lower()
    return text in _TRUE_WORDS or text in _FALSE_WORDS or text == "-1"


def _odd_values(series: pd.Series) -> np.ndarray:
    """Mask of the rows holding a value that is no binary spelling (missing values are not odd)."""
    odd = [v for v in pd.unique(series.dropna()) if not is_binary_spelling(v)]
    return series.isin(odd).to_numpy() if odd else np.zeros(len(series), dtype=bool)


# Outcomes a user does not want: a ranking should push their items down, not up (mtlrec.recommend.default_fusion).
_NEGATIVE_TOKENS = {"hate", "dislike", "dislikes", "disliked", "skip", "skipped", "unlike", "unfollow", "complain",
                    "complaint", "report", "reported", "block", "blocked", "dismiss", "negative", "downvote",
                    "thumbs_down", "thumbsdown", "bounce", "uninstall", "unsubscribe", "churn", "return", "returned",
                    "refund", "nonclk", "nonclick", "noclick", "non_click", "unclicked"}  # fmt: skip


def negative_feedback(name: str) -> bool:
    """A label that counts against an item: is_hate, dislike, skipped (but not not_skipped)."""
    parts = _parts(name)
    return bool(_tokens(name) & _NEGATIVE_TOKENS) and "not" not in parts and "no" not in parts


def _last_name(column: str) -> str:
    """A name's own part (_own_part) as a whole name is compared: stripped, in lower case."""
    return _own_part(column).strip().lower()


def _count_named(column: str) -> bool:
    """A name of a count that follows the event: votes on a review, a listener's plays (_COUNT_LABEL_NAMES)."""
    # The whole name only: user_play_count, avg_play_count are statistics of the past (features), as like_count is.
    return _squash(column) in _COUNT_LABEL_SQUASHED or _last_name(column) in _COUNT_LABEL_NAMES


def _regression_named(column: str) -> bool:
    """A name that says "regression label": watch_time, dwell, rating, gmv... or exactly overall, stars or star (also
    as SNAP's review/overall)."""
    last = _last_name(column)
    return bool(_tokens(column) & _REGRESSION_LABEL_TOKENS) or last in _REGRESSION_LABEL_NAMES | _COUNT_LABEL_NAMES


# Whole names of ad-log ids written without "id": Criteo Attribution's campaign, Taobao's brand and customer (the
# advertiser, in its ad_feature table); adgroup, advertiser and creative as other ad logs write them.
_BARE_ID_NAMES = {"campaign", "adgroup", "advertiser", "creative", "brand", "customer"}


def _id_named(column: str) -> bool:
    """A name ending in id: seller_id, sellerId, or one word such as visitorid or transactionid; or an ad log's
    campaign, adgroup, advertiser, creative, brand or customer, ids without the word."""
    parts = _parts(column)
    last = parts[-1] if parts else ""
    return (
        last == "id"
        or len(parts) > 1
        and last == "key"
        or (last.endswith("id") and last[:-2] in _ID_PREFIXES)
        or "".join(parts) in _BARE_ID_NAMES
    )


# An integer column is item ids (Tenrec's hist_1..hist_10, the items of past clicks) when this share of its values
# other than 0 (padding) are the item column's, and it has at least ITEM_VALUES_SHARE as many distinct values.
ITEM_IDS_SHARE = 0.9
ITEM_VALUES_SHARE = 0.5


def _item_ids(series: pd.Series, items: pd.Series | None) -> bool:
    """Whether an integer column holds ids of the item column (integers too), as a history of past items does; not
    one named as a quantity (Tenrec's read_time, seconds, in the range of its item ids)."""
    words = set(_parts(str(series.name)))
    if words & (_MEASURE_WORDS | _AGGREGATE_WORDS | _QUANTITY_WORDS | _TIME_WORDS):
        return False
    if items is None or not is_numeric(items) or series.nunique() < ITEM_VALUES_SHARE * items.nunique():
        return False
    values = series[series.notna() & (series != 0)]
    return bool(len(values)) and values.isin(pd.unique(items.dropna())).mean() >= ITEM_IDS_SHARE


_EVENT_ID_WORDS = {"transaction", "event", "visit", "log", "session", "row", "record", "conversion"}


def _thing_id_named(column: str) -> bool:
    """A name of the ids of a thing a log may be about: <thing>_id or <thing>_key (anime_id, venue_key), not of an
    attribute (category_id, city_id, group_id), a request or an event (session_id, Criteo's conversion_id, filled
    on conversions) or a time (date_id)."""
    parts = _parts(column)
    if len(parts) < 2 or parts[-1] not in ("id", "key") or _request_key(column):
        return False
    words = {re.sub(r"\d+$", "", w) for w in parts[:-1]}
    return not words & (
        _ATTRIBUTE_WORDS | _CODE_WORDS | _ENTITY_WORDS | _TIME_WORDS | _BINARY_LABEL_TOKENS | _EVENT_ID_WORDS
    )


def recurring_ids(frame: pd.DataFrame, by: str, columns: list[str]) -> list[str]:
    """Of `columns`, those holding ids that recur across the groups of `by` (an item column beside a user column:
    most of its rows hold a value seen in several users' rows, and most users hold several of its values, unlike a
    user attribute or a user's own sessions), most distinct values first. Floats with fractions are no ids."""
    head = frame.iloc[:RECUR_ROWS]
    n = len(head)
    found = []
    for c in columns:
        if c == by or c not in head.columns:
            continue
        s = head[c]
        if pd.api.types.is_float_dtype(s) and bool(np.any(np.mod(s.dropna(), 1) != 0)):
            continue
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
            continue
        if not is_numeric(s):
            # Numbers with text in 5-50% of the rows are ids of several things: Trivago's `reference`, a hotel id
            # for a click and "Sort by Price" or a city for a filter or a search (recommendations of those listed
            # "Breakfast Included" as items).
            numbers = pd.to_numeric(s.dropna(), errors="coerce").notna().mean() if s.notna().any() else 0.0
            if 0.5 <= numbers <= 0.95:
                continue
        distinct = int(s.nunique())
        if not min(20, max(2, n // 50)) <= distinct <= 0.5 * n:
            continue
        pairs = pd.DataFrame({"by": head[by].to_numpy(), "c": s.to_numpy()}).dropna()
        if pairs.empty:
            continue
        groups = pairs.groupby("by", sort=False)["c"].nunique()
        owners = pairs.groupby("c", sort=False)["by"].nunique()
        shared = pairs["c"].map(owners).gt(1).mean()
        if (groups > 1).mean() > RECUR_SHARE and shared > RECUR_SHARE:
            found.append((distinct, c))
    return [c for _, c in sorted(found, key=lambda t: -t[0])]


def id_candidate_hint(frame: pd.DataFrame, data: DataConfig, exclude: set[str] = frozenset()) -> str | None:
    """For data with a user column but no item column (or the other way round), the column most likely to be the
    missing one and how to choose it; None when both or neither are set, or no column looks like one."""
    if bool(data.user_col) == bool(data.item_col):
        return None
    found, role = (data.user_col, "item") if data.user_col else (data.item_col, "user")
    if found not in frame.columns:
        return None
    events = _BINARY_LABEL_TOKENS | _EVENT_ID_WORDS  # not a count of seconds (numeric), nor Criteo's conversion_id
    # ...nor a part of a time: Spotify's hour_of_day recurs across sessions as an item would, and is no user.
    # (created_by and updated_by name users: not those two words)
    events |= (_TIME_WORDS - {"created", "updated"}) | _DATE_CODE_WORDS | {"weekday", "week", "month", "year", "minute",
                                                                           "hourmin", "season"}  # fmt: skip
    # ...nor an amount: Online Retail's Quantity (a few recurring integers in a file's first rows) was offered as the
    # item column; a name ending in an id word names ids all the same (ItemNumber, account_no, order_count_id)
    amounts = _AGGREGATE_WORDS | _QUANTITY_WORDS | _MEASURE_WORDS

    def candidate(c) -> bool:
        parts = _parts(c)
        named_id = bool(parts) and parts[-1] in _ID_ENDINGS
        return not set(parts) & events and (named_id or not set(parts) & amounts)

    columns = [c for c in data.categorical if c not in exclude and c != data.time_col and candidate(c)]
    candidates = recurring_ids(frame, found, columns)
    if not candidates:
        return None
    c = candidates[0]
    other = "user" if role == "item" else "item"
    return (
        f"column '{c}' may be the {role} column ({int(frame[c].nunique()):,} values, recurring across "
        f"{other}s' rows; no column is named as one): to get ranking metrics and recommendations, name it (CLI: "
        f"--{role}-col {shlex.quote(str(c))}; on Data, choose it as the {role} column)"
    )


# Last words that make a name an identifier's, whatever comes before (ItemNumber, customer_num, account_no)
_ID_ENDINGS = {"id", "ids", "key", "code", "number", "num", "no", "nr", "nbr"}
# KuaiRand's onehot_feat1; Census-Income's detailed_industry_recode (52 codes: nominal, as the MMoE paper has them)
_CODE_WORDS = {"categorical", "category", "cate", "cat", "code", "class", "type", "onehot", "recode"}
# Words of a count or an aggregate, checked first: clicks_per_category and category_views are quantities. Then a
# name ending in a code word is a code (age_category, click_type, last_cate); then the singular words of a
# quantity make one (category_click, category_price, type_duration).
_AGGREGATE_WORDS = {"cnt", "count", "counts", "num", "number", "sum", "avg", "mean", "median", "std", "min", "max",
                    "pct", "percent", "freq", "qty", "quantity", "amount", "total", "rate", "ratio", "clicks",
                    "views", "sales", "orders", "visits", "items", "users", "products", "buyers"}  # fmt: skip
_QUANTITY_WORDS = {"click", "view", "sale", "order", "visit", "price", "duration", "score", "size", "length", "age"}
# Last words of a name whose integers number places, devices, sources and sellers (TalkingData's app, device, os,
# channel and ip; ICME TikTok's user_city and item_city): codes, unless counted (num_device, clicks_per_city) or the
# name goes on after the word (device_ratio, app_usage_seconds, city_population: quantities about one).
_ENTITY_WORDS = {"city", "country", "region", "province", "device", "os", "channel", "app", "ip", "site", "domain",
                 "brand", "shop", "seller", "merchant", "store", "campaign"}  # fmt: skip
# Last words of a name whose integers number things of a catalogue, places and makers (Ta-Feng's PRODUCT_SUBCLASS,
# Instacart's aisle and department, a zip code, an author): codes, as the entity words are. Not excluded from the
# ids of a thing a log is about (an artist_id can be the item: _thing_id_named).
_NUMBERED_WORDS = {"subclass", "subcategory", "genre", "family", "subfamily", "segment", "tag", "topic", "department",
                   "dept", "aisle", "occupation", "model", "barcode", "zip", "zipcode", "postcode", "postal", "plz",
                   "dma", "msa", "geo", "district", "county", "state", "artist", "author", "publisher", "vendor",
                   "supplier", "manufacturer", "parent"}  # fmt: skip
# ...but not a name measuring something about one: a quantity or unit word anywhere (time_on_site, minutes_in_app,
# price_at_shop, age_of_device, distance_to_store) or 'per' (visits_per_device). Other connectors alone name a place
# (ship_to_country, sold_at_store, signup_from_channel, page_on_site).
_MEASURE_WORDS = {"time", "times", "duration", "dwell", "minute", "minutes", "mins", "hour", "hours", "hrs", "second",
                  "seconds", "secs", "sec", "ms", "day", "days", "week", "weeks", "distance", "dist", "km", "miles",
                  "meters", "price", "cost", "spend", "revenue", "age", "score", "size", "length", "weight", "latency",
                  "delay", "speed", "usage", "amt"}  # fmt: skip


def _code_named(column: str, number_names: bool = True) -> bool:
    """A name saying its integers are codes, not quantities: categorical_2 (AliExpress), C14 (Avazu, Criteo), 101
    or 205_14 (Ali-CCP's feature fields; not when `number_names` is False: the columns of pd.DataFrame(array) are
    positions, 0..N-1), category_code, cat1 (Criteo Attribution's hashed codes: a word's trailing digits number it),
    or a name ending in a place, device, source or seller: user_city, device, os, channel, app, ip, shop, or in
    "no"/"nr" (H&M's department_no).
    Standardised as numbers, such columns cost AliExpress-shaped data a click AUC of 0.67 (0.51 instead), and
    TalkingData-shaped data 0.59 (0.77 as codes)."""
    name = str(column).strip()
    words = [re.sub(r"(?<=[a-z])\d+$", "", w) for w in _parts(name)]
    if words and words[-1] in _CODE_WORDS:  # age_category, size_code, click_type, rate_type: codes...
        # ...unless a count is given per code: clicks_per_category, orders_by_type, items_in_cat
        counted = any(w in _AGGREGATE_WORDS and set(words[i + 1 : -1]) & {"per", "by", "in", "of"}
                      for i, w in enumerate(words))  # fmt: skip
        return not counted
    if set(words) & _AGGREGATE_WORDS:  # cate_click_cnt_7d, type_count: counts, not codes
        return False
    if len(words) >= 2 and words[-1] in ("no", "nr", "nbr") and words[-2] not in _LABEL_FILLERS:
        return True  # H&M's department_no and section_no, an account_nr, Favorita's store_nbr: numbers that name
    # user_city, device, os, order_channel, ship_to_country, country_of_user: codes...
    entity = len(words) - 1 if words and words[-1] in _ENTITY_WORDS | _NUMBERED_WORDS else None
    if entity is None and len(words) >= 3 and words[-2] in ("of", "for") and words[-3] in _ENTITY_WORDS:
        entity = len(words) - 3
    if entity is not None:
        measures = set(words[:entity]) - ({"time"} if "zone" in words else set())  # time_zone_region is a place
        return not measures & (_MEASURE_WORDS | {"per"})  # ...not time_on_site, hours_per_device, clicks_per_app
    if set(words) & _QUANTITY_WORDS:  # category_click, category_price: quantities
        return False
    return (
        bool(set(words) & _CODE_WORDS)
        or re.fullmatch(r"[Cc]\d+", name) is not None
        or number_names
        and re.fullmatch(r"\d{3}(_\d+)*", name) is not None  # Ali-CCP's fields
    )


_MONEY = re.compile(r"\s*-?\s*(?:[$€£¥₹]|[A-Z]{3})?\s*-?[\d][\d.,]*\s*(?:[$€£¥₹]|[A-Z]{3})?\s*")
_CURRENCY = re.compile(r"[$€£¥₹]|\b[A-Z]{3}\b")


def _money_in_currencies(series: pd.Series) -> list[str]:
    """Text of amounts in more than one currency ($12.50 beside €9.99, or 12.50 EUR beside 3.00 USD), which the
    reader leaves as text (it reads one sign only): a value in each currency (up to 3), or [] for other text."""
    head = series.dropna().astype(str).iloc[:1000]
    if head.empty or not head.str.fullmatch(_MONEY).all():
        return []
    first: dict[str, str] = {}
    for value, found in zip(head, head.str.findall(_CURRENCY), strict=True):
        for currency in found:
            first.setdefault(currency, value)
    return list(first.values())[:3] if len(first) > 1 else []


def _label_name(column: str) -> bool:
    """A name that says "binary label" and nothing else: click, is_click, purchased, label (not click_type)."""
    parts = _parts(column)
    labels = [p for p in parts if p in _BINARY_LABEL_TOKENS]
    return bool(labels) and all(p in _BINARY_LABEL_TOKENS or p in _LABEL_FILLERS for p in parts)


def _mostly_numeric(series: pd.Series) -> bool:
    """A text column whose values are numbers but for a few rows (e.g. a price with 'unknown' in some rows)."""
    present = series.dropna()
    if not len(present) or is_numeric(series):
        return False
    head = pd.to_numeric(present.iloc[:1000], errors="coerce")  # a cheap look first: most text columns stop here
    if head.notna().mean() < MOSTLY_NUMERIC:
        return False
    parsed = pd.to_numeric(present, errors="coerce").notna()
    return MOSTLY_NUMERIC <= parsed.mean() < 1


def binary_coding(series: pd.Series) -> tuple[dict, str | None] | None:
    """How a column's distinct values map to 0/1, plus a note when they are not plain 0/1; None if not binary.

    Accepts 0/1, true/false, yes/no, positive/negative (any case), -1/1 (-1 read as negative) and a tick (x, ✓,
    *: positive) beside 0 or one of the false words. Missing values are ignored here.
    """
    values = pd.unique(series.dropna())
    if len(values) == 0 or len(values) > 2:
        return None
    mapping: dict = {}
    words = set()
    for v in values:
        if isinstance(v, bool | np.bool_):
            mapping[v] = float(v)
            words.add("true/false")
            continue
        if isinstance(v, int | float | np.integer | np.floating):
            if v in (0, 1):
                mapping[v] = float(v)
                if float(v) != int(v) or isinstance(v, float | np.floating):
                    words.add("0.0/1.0")
                continue
            if v == -1:
                mapping[v] = 0.0
                words.add("-1/1")
                continue
            return None
        text = str(v).strip().lower()
        if text in _TRUE_WORDS:
            mapping[v] = 1.0
        elif text in _FALSE_WORDS:
            mapping[v] = 0.0
        elif text == "-1":
            mapping[v] = 0.0
            words.add("-1/1")
            continue
        else:
            return None
        if text not in ("0", "1"):
            words.add(f"{text}")
    if len(set(mapping.values())) < len(mapping):
        return None  # e.g. "yes" and "1" both meaning positive: ambiguous spelling, not a clean binary column
    note = None
    if "-1/1" in words:
        note = "values -1/1 read as 0/1 (-1 = negative)"
    elif words - {"0.0/1.0"}:
        shown = "/".join(sorted(str(k).strip() for k in mapping))
        note = f"values {shown} read as 0/1"
    return mapping, note


def binary_labels(series: pd.Series) -> np.ndarray:
    """A binary label column as float32 0/1 (assumes validate() accepted it)."""
    coding = binary_coding(series)
    if coding is None and series.isna().all():  # a part without a labelled row of a labelled_only task
        return np.full(len(series), np.nan, dtype=np.float32)
    if coding is None:
        raise MtlrecError(f"column '{series.name}' is not a binary 0/1 label")
    return series.map(coding[0]).to_numpy(dtype=np.float32, na_value=np.nan)  # NaN: not labelled (labelled_only)


def is_numeric(series: pd.Series) -> bool:
    return _numeric_dtype(series.dtype)


def _numeric_dtype(dtype) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def check_frame(frame: object, what: str = "the table") -> None:
    """Raise MtlrecError when `frame` is no table the library can use: not a pandas DataFrame, columns with several
    levels of names or names that are not text (pd.DataFrame(array) names them 0, 1, 2…), duplicate names, no rows.

    infer_schema and prepare check a DataFrame passed in with it. Files never fail the name rules: mtlrec.io reads
    number names as text and refuses the others with the same advice.
    """
    if not isinstance(frame, pd.DataFrame):
        got = type(frame).__name__
        role = "" if what == "the table" else f" as {what}"
        raise MtlrecError(f"expected a pandas DataFrame{role}, got {got}: make one, e.g. pd.DataFrame(records)")
    columns = frame.columns
    if isinstance(columns, pd.MultiIndex):
        raise MtlrecError(
            f"{what}'s columns have {columns.nlevels} levels of names (e.g. {columns[0]!r}), but column names must "
            "be one level of text: flatten them, e.g. df.columns = ['_'.join(map(str, c)) for c in df.columns]"
        )
    other = [c for c in columns if not isinstance(c, str)]
    if other:
        shown = fmt.listing(other, 5, repr)
        raise MtlrecError(
            f"{what}'s column names must be text, but {len(other):,} {'is' if len(other) == 1 else 'are'} not "
            f"({shown}; pd.DataFrame(array) names its columns 0, 1, 2…): rename them, e.g. "
            "df.columns = df.columns.astype(str)"
        )
    if columns.has_duplicates:
        shown = list(duplicate_names(columns).values())
        raise MtlrecError(
            f"{what} has duplicate column names: {'; '.join(shown[:10])}: give every column a unique name"
        )
    if not len(frame):
        raise MtlrecError(f"{what} has no rows: pass the rows to learn from")


def infer_schema(frame: pd.DataFrame) -> SchemaProposal:
    """Propose user/item/time columns, tasks and feature types from names, dtypes and cardinality."""
    check_frame(frame)
    frame = lists_as_text(frame)  # Python lists (a frame built in Python) as files' lists are read
    n = len(frame)
    series = dict(frame.items())  # one pass over the columns: a frame may have 10,000 of them
    columns = list(series)
    nunique = {c: int(s.nunique(dropna=True)) for c, s in series.items()}
    ignored: dict[str, str] = {}
    # Number names from 0 or 1 up are an array's positions (pd.DataFrame(array), maybe with labels added or a column
    # dropped), not Ali-CCP's feature fields (101, 121, 205_14...).
    numbered = [int(str(c)) for c in columns if re.fullmatch(r"[0-9]+", str(c))]
    positions = bool(numbered) and min(numbered) <= 1

    notes: list[str] = []
    passed_over: list[str] = []  # id columns skipped for their empty rows

    def id_column(role: str, names: set[str], exclude: set[str]) -> str | None:
        # A name that is the id's plural ('products', 'items') comes after the others: Steam's 'products' counts a
        # reviewer's games, and was taken as the item column before the 'product_id' after it.
        for c in sorted(columns, key=lambda c: _plural_only(c, names)):
            if c in exclude or not _is_named(c, names):
                continue
            if nunique[c] < min(20, max(2, n // 50)):
                # Said, not silently passed over: a small catalogue (an item_id of 12) lost Recommend without a word.
                if nunique[c] >= 2 and not _plural_only(c, names):
                    notes.append(
                        f"column '{c}' is not proposed as the {role} column: it holds {nunique[c]:,} values in {n:,} "
                        f"rows, few for ids; if it is the {role} column, name it (CLI: --{role}-col "
                        f"{shlex.quote(str(c))}; on Data, choose it as the {role} column)"
                    )
                continue
            empty = int(series[c].isna().sum())
            if not empty:
                return c
            # Diginetica's userId is empty in 88% of the rows, Online Retail's CustomerID in 25%: proposed, training
            # refused them. As a feature, missing is a category; the next column named so is considered.
            share = f"{empty / n:.0%}" if empty >= 0.01 * n else "under 1%"
            passed_over.append(c)
            notes.append(
                f"column '{c}' is not proposed as the {role} column: it is empty in {empty:,} of {n:,} rows ({share}), "
                f"and {_ID_USES[role]} (as a plain categorical feature, empty is a category). To make it the {role} "
                f"column, fill or drop those rows and name it (CLI: --{role}-col {shlex.quote(str(c))}; on Data, "
                f"choose it as the {role} column)"
            )
        return None

    # Ali-CCP (the ESMM paper's dataset) names its fields by number: 101 is the user id and 205 the item id.
    ali_ccp = {"101", "205"} <= {str(c) for c in columns}
    user_col = id_column("user", _USER_NAMES | ({"101"} if ali_ccp else set()), set())
    skipped = len(passed_over)
    item_col = id_column("item", _ITEM_NAMES | ({"205"} if ali_ccp else set()), {user_col})
    if item_col is None and not passed_over[skipped:]:
        # The ids of public logs and sellers only where the data has no item column: an item_id passed over for a
        # few empty rows still says what the items are (its note says how to use it), a seller beside it is a feature.
        item_col = id_column("item", _MORE_ITEM_NAMES, {user_col})
    if user_col and item_col is None and not passed_over[skipped:]:
        # No column is named as the item: a <thing>_id whose ids recur across users (Anime's anime_id) is taken.
        named = [c for c in columns if c != user_col and not series[c].isna().any() and _thing_id_named(c)]
        recurring = recurring_ids(frame, user_col, named)
        if recurring:
            item_col = recurring[0]
            notes.append(
                f"column '{item_col}' is proposed as the item column: no column is named as one, and its "
                f"{nunique[item_col]:,} ids recur across users' rows; if it is not the item, choose another (CLI: "
                "--item-col NAME, or none)"
            )
    evidence = {c: _time_evidence(c, series[c]) for c in columns if c not in (user_col, item_col) and nunique[c] > 1}
    # Values that are times before a name alone, then the finest (KuaiRand has a day and a time in ms); the other
    # columns whose values are times are ignored, not standardised as features. A time about the user (constant in
    # each user's rows, or named as a registration, expiry or birth date: KKBox's registration_init_time, Santander's
    # fecha_alta) is not the time of the rows, however fine.
    about_user = {c for c in evidence if evidence[c] and _user_time(c, series[c], user_col and series[user_col])}

    def present(c: str) -> float:
        """The share of rows with a time (blank text counts as none), to 2 places: a complete time column before
        one empty in half the rows (Goodreads' date_added before read_at, "" for an unread book)."""
        s = series[c]
        return round(float((s.notna() & ~_blank(s)).mean()), 2) if n else 0.0

    # A time of the user's past beside the row's own (last_login_time, prev_click_ts before event_time) comes after
    # it, however fine: it won by its distinct values, and the time split cut at logins (15% of the "future" rows
    # were older than the cut: an audit).
    time_col = max(
        (c for c in evidence if evidence[c] and c not in about_user),
        key=lambda c: (evidence[c], not set(_parts(c)) & _PAST_TIME_WORDS, present(c), nunique[c]),
        default=None,
    )
    times = {c for c in evidence if evidence[c] == 2}
    if time_col is None and (note := _unnamed_time_note(series, nunique, (user_col, item_col))) is not None:
        notes.append(note)
    elif time_col is None and (note := _excel_dates_note(series, (user_col, item_col))) is not None:
        notes.append(note)

    tasks: list[TaskSpec] = []
    categorical: list[str] = [c for c in (user_col, item_col) if c]
    numeric: list[str] = []
    multi: list[str] = []
    constant_labels: list[str] = []
    for c in columns:
        if c in (user_col, item_col, time_col):
            continue
        s = series[c]
        tokens = _tokens(c)
        if nunique[c] == 0:
            ignored[c] = "no values: every row is missing"
            continue
        if nunique[c] == 1 and not s.isna().any():  # one value and empty rows (H&M's FN: 1 or empty) is a flag
            ignored[c] = "constant: it carries no information"
            for role, names, needs in _ID_NEEDS:
                if _is_named(c, names):
                    ignored[c] = f"a single {role} ({show_value(s.dropna().iloc[0])}) in every row: {needs}"
                    break
            if _label_name(c):
                constant_labels.append(c)
            continue
        if (tokens & _BINARY_LABEL_TOKENS or _regression_named(c)) and (
            _count_named(c) or not set(_parts(c)) & _STAT_WORDS
        ):
            task = _label_task(c, s, nunique[c])
            if task is not None and _count_named(c) and s.isna().any():
                # Amazon 2018's vote is missing where nobody voted: proposed as a task, every run stopped on it.
                ignored[c] = (
                    f"a count that follows the event (votes, plays): an outcome, not an input; missing in "
                    f"{int(s.isna().sum()):,} rows, so not proposed as a task: to predict it, fill them and make it "
                    f"one (CLI: --fill {shlex.quote(f'{c}=0')} and add it to --tasks; on Data: Fix the rows, then role "
                    "label); if it is missing where it does not apply (no review to vote on), make it a task trained on "
                    f"its labelled rows only instead (CLI: add it to --tasks and --labelled-only {shlex.quote(str(c))})"
                )
                continue
            if task is not None:
                tasks.append(task)
                continue
            written = (_label_name(c) or _regression_named(c)) and not (c in times or _time_evidence(c, s) == 2)
            if written and _quantity_advice(c, pd.unique(s.dropna().astype(str))) is not None:
                # A label written as text (watch_time as 0:11 or 12.5 s) is no feature either: written with the
                # event, its categories give the label away (click AUC 0.64 instead of 0.46, under the leak check's
                # bar when a few rows differ). Other text under a label's name stays a feature (a film's rating
                # PG-13, the page visited).
                ignored[c] = f"{UNREADABLE_LABEL}: it {_text_label_advice(s)}; {_NO_FEATURE}"
                continue
        if _request_key(c) and not (n > 100 and nunique[c] > ROW_ID_SHARE * n):
            ignored[c] = _request_key_reason(c, nunique[c], n)  # distinct in every row: a row id (below)
        elif c in times or pd.api.types.is_datetime64_any_dtype(s) or pd.api.types.is_timedelta64_dtype(s):
            ignored[c] = "a date/time that is not the timestamp column" + (_USER_TIME if c in about_user else "")
        elif is_numeric(s):
            integer = pd.api.types.is_integer_dtype(s) or bool(np.all(np.mod(s.dropna(), 1) == 0))
            id_named = _id_named(c)
            # A row id is distinct in (nearly) every row; an id column with fewer values (a seller in half the rows
            # of a small file) is a feature.
            restarts = _saved_index_restarts(c, s) if integer and n > 100 and nunique[c] < n else None
            if (
                integer
                and n > 100
                and (nunique[c] == n and _row_index(c, s) or id_named and nunique[c] > ROW_ID_SHARE * n)
            ):
                ignored[c] = f"{nunique[c]:,} distinct integers in {n:,} rows: looks like a row id or index"
            elif restarts is not None:
                ignored[c] = (
                    f"row numbers that count up and start again {restarts:,} times: the index of several tables "
                    "saved together (pd.concat(...).to_csv()), not a feature"
                )
            else:  # an id is a category, whatever its number of values (standardising ids means nothing)
                # An item or user name beside the chosen item (Goodbooks' isbn and isbn13 beside book_id) is ids too;
                # a plural (items: a count) is not.
                named = _is_named(c, _ITEM_NAMES | _USER_NAMES) and not _plural_only(c, _ITEM_NAMES | _USER_NAMES)
                coded = id_named or named or _code_named(c, number_names=not positions)
                coded = coded or integer and nunique[c] > 32 and _item_ids(s, item_col and series[item_col])
                (categorical if integer and (nunique[c] <= 32 or coded) else numeric).append(c)
        elif nunique[c] > 32 and _mostly_numeric(s) and not (_id_named(c) or _code_named(c, not positions)):
            numeric.append(c)  # validation lists the rows holding text (a code column's text is a code: below)
        elif multi_valued(s) is not None:
            multi.append(c)
        elif nunique[c] >= FREE_TEXT_VALUES and (words := _free_text(s)) is not None:
            ignored[c] = (
                f"free text (its values have a median of {words} words): a category per text would learn little, "
                f"and mtlrec has no text encoder (if it is a code, choose it as categorical: CLI --categorical "
                f"{shlex.quote(str(c))})"
            )
        elif nunique[c] > 0.5 * (filled := int(s.notna().sum())) and filled > 100:
            # Counted over the rows holding a value: Trivago's impressions, empty in 66% of the rows and a list
            # almost never repeated in the others, became a category of whole lists.
            rows = f"{n:,} rows" if filled == n else f"the {filled:,} rows holding a value"
            ignored[c] = (
                f"{nunique[c]:,} distinct values in {rows}: looks like a row id or free text"
                + (
                    f"; if its values are lists of tokens, choose it as multi-valued (CLI: --multi {shlex.quote(str(c))})"
                    if _listing(s)
                    else ""
                )  # fmt: skip
                if not (examples := _money_in_currencies(s))
                else f"numbers with different currencies (e.g. {', '.join(map(repr, examples))}): convert them to "
                "one currency as plain numbers to use them"
            )
        else:
            categorical.append(c)
    if not tasks and constant_labels:
        # The file's only label is constant: propose it anyway, so that validation says why it cannot be learned
        # (instead of "no label found").
        for c in constant_labels:
            del ignored[c]
            tasks.append(TaskSpec(c, "binary" if binary_coding(series[c]) is not None else "regression"))
    for c in constant_labels if tasks and not any(t.name in constant_labels for t in tasks) else ():
        # Said, not only listed among the ignored: a drop can leave a label one value (Goodreads' is_read, all 1
        # once the unrated rows are dropped), and the task went from the run without a word.
        notes.append(
            f"column '{c}' is named as a label but holds {show_value(series[c].iloc[0])} in every row: it is not "
            "proposed as a task (nothing can be learned from it)"
        )
    # A label that is another's copy or opposite in every row (Tenrec QB's read, a copy of click) is one task twice:
    # the later one is left out (validation refuses the pair).
    readable = [t for t in tasks if t.type == "binary" and binary_coding(series[t.name]) is not None]
    readable = [t for t in readable if not series[t.name].isna().any()]
    twins = [(a, b, opposite) for a, b, opposite, differing in _twin_pairs(frame, readable) if not differing]
    for a, b, opposite in twins:
        if a in tasks and b in tasks:
            tasks.remove(b)
            ignored[b.name] = (
                f"{'the opposite of' if opposite else 'the same label as'} task '{a.name}' in every row: one task "
                f"{'written both ways' if opposite else 'twice'} (make it the task instead of '{a.name}' if you prefer)"
            )
    for a, b, rho in _regression_twins(frame, [t for t in tasks if t.type == "regression"]):
        if a in tasks and b in tasks:  # MovieLens' rating beside rating/5
            tasks.remove(b)
            ignored[b.name] = (
                f"{_rescaled(rho)} task '{a.name}' (rank correlation {rho:+.4f}): one task twice (make it the task "
                f"instead of '{a.name}' if you prefer)"
            )
    for task in [t for t in tasks if t.type == "regression"] if len(tasks) > 1 else ():
        # Anime's rating_y (the join's average rating of the anime beside the user's rating_x), IMDb's imdb_rating
        # beside MovieLens' rating: one value per item is what the item is, not what a row did. As a task it was
        # learnt from the item id alone and then drove Recommend's fused ranking.
        role = next((r for r, col in (("item", item_col), ("user", user_col)) if col and
                     _one_value_per(series[task.name], series[col])), None)  # fmt: skip
        if role is not None:
            tasks.remove(task)
            numeric.append(task.name)
            notes.append(
                f"column '{task.name}' is named like a label but holds one value per {role} (in every {role} with "
                f"several rows): a property of the {role}, not an outcome of the row, so it is a numeric feature, not "
                f"a task (to train it as a task anyway: CLI --tasks; on Data, its role 'label')"
            )
    data = DataConfig(
        user_col=user_col, item_col=item_col, time_col=time_col, categorical=categorical, numeric=numeric, multi=multi
    )
    # A feature that gives a proposed task away is set aside, with the evidence (mtlrec.leakage).
    leaks = find_leaks(frame, data, tasks)
    for leak in leaks:
        data.drop_feature(leak.column)
        ignored[leak.column] = leak.reason()
    if not passed_over and (hint := id_candidate_hint(frame, data)) is not None:
        notes.append(hint)  # KKBox's msno beside song_id
    flags = _flags_as_features(series, nunique, data, tasks)
    if note := flags_note(flags, data, tasks):
        notes.append(note)
    notes += _worded_outcomes(series, nunique, data)
    return SchemaProposal(data=data, tasks=tasks, ignored=ignored, leaks=leaks, notes=notes, flags=flags)


FLAG_FEATURES_NOTED = 5  # a file with more 0/1 features than this has one-hot columns: no note, it would be noise


def _flags_as_features(series: dict, nunique: dict, data: DataConfig, tasks: list[TaskSpec]) -> list[str]:
    """The 0/1 columns proposed as features, when there are a few (none past FLAG_FEATURES_NOTED: one-hot columns):
    one of them may be the outcome to predict under a name no label has (`fraud` at 0.04% positives, `helpful`),
    which was used as an input without a word. `nunique`: infer_schema's count of each column's values."""
    taken = {t.name for t in tasks}
    flags = [
        c
        for c in data.features
        if c not in taken and c in series and nunique.get(c) == 2
        and (coding := binary_coding(series[c])) is not None and set(coding[0].values()) == {0.0, 1.0}
    ]  # fmt: skip
    return flags if len(flags) <= FLAG_FEATURES_NOTED else []


_OUTCOME_NAMES = {"outcome", "result", "response", "label", "target"}


def _worded_outcomes(series: dict, nunique: dict, data: DataConfig) -> list[str]:
    """A note per text feature of two values that reads as an outcome, by a value ('clicked' / 'not clicked') or its
    name (outcome, result): used as an input without a word, it gave a purchase task its AUC of 0.72 against 0.57 (an
    audit), where a 0/1 column gets flags_note's note."""
    notes = []
    for c in data.features:
        s = series.get(c)
        if s is None or nunique.get(c) != 2 or is_numeric(s):
            continue
        values = [str(v).strip() for v in pd.unique(s.dropna())]
        words = {w for v in values for w in _parts(v)}
        if not (words & _BINARY_LABEL_TOKENS or set(_parts(str(c))) & _OUTCOME_NAMES):
            continue
        rarer, made = _label_example(s.rename(c))
        notes.append(
            f"column '{c}' holds two values ({', '.join(show_value(v) for v in values)}) and is used as a feature: "
            f"if it is an outcome to predict (or recorded with one), make a 0/1 label of it ({made}), which takes it "
            "out of the features, or leave it out (--exclude)"
        )
    return notes


_FLAGS_NOTE = re.compile(r"columns? '.*' holds? 0/1 values and (is|are) used as (a feature|features): ")


def with_flags_note(notes: list[str], flags: list[str], data: DataConfig, tasks: list[TaskSpec]) -> list[str]:
    """Inference's notes with its note on 0/1 features (SchemaProposal.flags) said again for the run's own columns
    and tasks: after --tasks, a fix or an edit made one a task, the note still said to make it one (an audit)."""
    kept = [n for n in notes if not _FLAGS_NOTE.match(n)]
    note = flags_note(flags, data, tasks)
    return kept + ([note] if note else [])


def flags_note(flags: list[str], data: DataConfig, tasks: list[TaskSpec]) -> str | None:
    """The note naming those of the 0/1 columns `flags` that are features of `data` and not among `tasks`."""
    taken, features = {t.name for t in tasks}, set(data.features)
    flags = [c for c in flags if c in features and c not in taken]
    if not flags:
        return None
    names = ", ".join(f"'{c}'" for c in flags)
    example = shlex.quote(",".join([*(t.name for t in tasks), flags[0]]))
    return (
        f"{'columns' if len(flags) > 1 else 'column'} {names} {'hold' if len(flags) > 1 else 'holds'} 0/1 values and "
        f"{'are' if len(flags) > 1 else 'is'} used as {'features' if len(flags) > 1 else 'a feature'}: if "
        f"{'one' if len(flags) > 1 else 'it'} is an outcome to predict, make it a task (CLI: --tasks {example}; on "
        "Data, its role 'label')"
    )


# A text column of this many values or more whose values' median word count is FREE_TEXT_WORDS or more is free text
# (reviews, titles); fewer values are categories however long (a category path "Home & Garden > Kitchen", a user
# agent).
FREE_TEXT_VALUES = 100
FREE_TEXT_WORDS = 6


def _free_text(series: pd.Series) -> int | None:
    """The median word count of a text column's values (its first 2,000; words of letters or digits, not '>' or
    '&'), when it makes the column free text: a review or a title (200 characters, a few thousand values, fewer than
    half the rows, became a categorical feature); None otherwise. Lists of tokens are multi-valued before this."""
    values = series.dropna().iloc[:2000].astype(str)
    if values.empty:
        return None
    words = int(values.str.count(r"[^\W_]+").median())
    return words if words >= FREE_TEXT_WORDS else None


ENTITY_IDS = 30  # ids with several rows needed before a label's one value per id is taken as the id's property


def _one_value_per(values: pd.Series, ids: pd.Series) -> bool:
    """True when every id with several rows (ENTITY_IDS of them or more) holds one value of `values` in them."""
    both = pd.DataFrame({"id": ids.to_numpy(), "value": values.to_numpy()}).dropna()
    if both.empty:
        return False
    counts = both.groupby("id", sort=False, observed=True)["value"].agg(["size", "nunique"])
    several = counts[counts["size"] >= 2]
    return len(several) >= ENTITY_IDS and bool((several["nunique"] == 1).all())


def _listing(series: pd.Series) -> bool:
    """Whether most of a text column's first values hold '|' or ';' or are bracketed: lists of tokens perhaps (20,000
    distinct tags make a column inference does not propose as multi-valued: too many tokens for its values)."""
    head = series.iloc[:2_000].dropna().astype(str)
    return bool(len(head)) and bool(head.str.contains(r"[|;]|^\s*\[.*\]\s*$", regex=True).mean() >= 0.5)


def skewed_target(series: pd.Series) -> bool:
    """Whether a regression target is proposed with log1p: numbers >= 0 with a long right tail (skewness over 2,
    as watch times and counts have), where squared errors on the raw values are ruled by a few huge ones."""
    if not is_numeric(series):
        return False
    values = series.astype("float64")  # nullable Int64/Float64: pd.NA would make the comparisons ambiguous
    low, skew = values.min(), values.skew()
    return bool(pd.notna(low) and pd.notna(skew) and low >= 0 and skew > 2)


def regression_log1p(series: pd.Series) -> bool:
    """Whether a column made a regression task trains on log1p, as inference proposes it and as the CLI and the Data
    page set it for a column named or retyped as one: a skewed target (skewed_target), unless it holds 0/1 only."""
    return skewed_target(series) and binary_coding(series) is None


def _request_key_reason(column: str, keys: int, n: int) -> str:
    """Why a request key (display_id) is not a feature, and how to use it: as the user column, GAUC and the ranking
    metrics are computed per request, as MIND and Outbrain score their tasks."""
    what = _request_key(column)
    return (
        f"looks like a{'n' if what[0] in 'aeiou' else ''} {what} key ({keys:,} keys in {n:,} rows), not a feature: "
        f"an embedding per {what} does not generalise to new ones; to get per-{what} GAUC and ranking metrics, "
        f"make it the user column without embedding it (CLI: --user-col {shlex.quote(str(column))} --exclude "
        f"{shlex.quote(str(column))}; on Data, choose it as the user column)"
    )


# How the reason of a label-named column that is not a label starts, and why it is not proposed as a feature.
UNREADABLE_LABEL = "named as a task, but not readable as a label"
_NO_FEATURE = (
    "not proposed as a feature either, as a label written with the event gives itself away (choose it as one if it "
    "is known before)"
)


def _binary_only(column: str) -> bool:
    """Named as a label only by words that are labels when 0/1 only (visit: a counter or a page otherwise)."""
    words = set(_tokens(column)) & (_BINARY_LABEL_TOKENS | {_squash(column)})
    return bool(words) and words <= _BINARY_ONLY_TOKENS


def _label_task(column: str, series: pd.Series, nunique: int) -> TaskSpec | None:
    """The task a label-like column proposes, or None when it looks like a feature after all (click_type)."""
    if binary_coding(series) is not None:
        return TaskSpec(column, "binary")
    if _label_name(column) and not _binary_only(column):
        odd = _odd_values(series)
        # Many distinct numbers besides 0/1 are a count (Douban's Like: votes, 0 or 1 in 93% of the rows, 529 values),
        # if they read as counts: whole numbers >= 0 (no -1) in more than a few rows (not a 0/1 click with typos).
        values = pd.to_numeric(pd.Series(pd.unique(series.dropna())), errors="coerce")
        counts = (
            values[~values.isin([0, 1])].notna().sum() > FEW_ODD_VALUES
            and bool(values.notna().all() and (values >= 0).all() and (values % 1 == 0).all())
            and odd.mean() >= COUNT_SHARE
        )
        if nunique <= 3 or (~odd).mean() >= MOSTLY_BINARY and not counts:
            return TaskSpec(column, "binary")  # 1/2, a/b, 0/1/2 or a few odd values: validation says what is wrong
    elif not _regression_named(column):
        return None  # user_ctr, click_per_day: a number about clicks, not a click (a click count is named "click")
    if is_numeric(series):
        return TaskSpec(column, "regression", log1p=regression_log1p(series))
    if _mostly_numeric(series):
        return TaskSpec(column, "regression")  # validation lists the rows holding text
    return None


# Plausible epoch times in seconds, milliseconds, microseconds or nanoseconds (1973 onwards); YYYYMMDD dates.
_EPOCH = (1e8, 1e19)
_YYYYMMDD = (19000101, 22001231)
_YYMMDDHH = (1_010_100, 100_000_000)  # date and hour codes, 2001-2099 (year 2000's would read as 6-digit numbers)
# Text that starts like a date: 2024-05-01, 2024/5/1, 01.05.2024, 5/1/24 (a time may follow).
_DATE_TEXT = re.compile(
    r"\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}"
    r"|\d{1,2} \d{1,2}, \d{4}"  # Amazon 2018's reviewTime: 09 13, 2009
    r"|[A-Za-z]{3,9}\.? \d{1,2},? \d{4}|\d{1,2} [A-Za-z]{3,9}\.?,? \d{4}"  # Sep 13, 2009 / 13 September 2009
    # Twitter's and C's ctime: Tue Apr 03 18:00:09 +0000 2012 (Foursquare's utcTimestamp), Tue Apr  3 18:00:09 2012
    r"|[A-Za-z]{3,9},? [A-Za-z]{3,9}\.? {1,2}\d{1,2} \d{1,2}:\d{2}(?::\d{2})?(?: [+-]\d{4}| [A-Z]{3,4})? \d{4})"
    r"([ T]\S.*)?\s*"
)
TIME_SAMPLE = 200
# Words of a date about a user or an account, not about the event a row records (Santander's fecha_alta: the date
# the account opened).
_USER_TIME_WORDS = {"registration", "registered", "register", "signup", "joined", "expiration", "expiry", "expires",
                    "expire", "birth", "birthday", "birthdate", "dob", "born", "alta", "opened", "opening"}  # fmt: skip
# Words of a time before the row's event: the user's last login, a previous click (not the row's own time). A login
# alone is no past (a session's login_time is its row's start: logout_time had been taken over it).
_PAST_TIME_WORDS = {"last", "prev", "previous", "lastlogin", "before", "past", "since"}
_USER_TIME = (
    ": a date about the user (named as a registration, expiry or birth date, or the same in each user's rows), not the "
    "time of the rows (choose it as the timestamp if it is)"
)


USER_TIME_ROWS = 20_000


def _user_time(column: str, series: pd.Series, users: pd.Series | None) -> bool:
    """A time column about the user, not the rows: named as a registration, expiry or birth date (signup_date,
    fecha_alta), or the same in each of the `users`' rows where they have several."""
    if set(_parts(column)) & _USER_TIME_WORDS:
        return True
    if users is None:
        return False
    # The first USER_TIME_ROWS rows: a time of the rows varies within some user's rows there already (on 200,000 rows
    # of text ids and timestamps this check took 0.35 s of a 1M-row file's inference)
    pairs = pd.DataFrame({"u": users.iloc[:USER_TIME_ROWS].to_numpy(), "t": series.iloc[:USER_TIME_ROWS].to_numpy()})
    pairs = pairs.dropna()
    sizes = pairs.groupby("u", sort=False).size()
    several = sizes.index[sizes > 1]
    if not len(several):
        return False
    return bool((pairs.groupby("u", sort=False)["t"].nunique()[several] <= 1).all())


def _blank(series: pd.Series) -> np.ndarray:
    """Whether each value is blank text, a missing time (Goodreads' JSON writes an unread book's read_at as "")."""
    if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
        return series.astype(str).str.strip().eq("").to_numpy(dtype=bool)
    return np.zeros(len(series), dtype=bool)


def _time_evidence(column: str, series: pd.Series) -> int:
    """2 for values that are times (datetimes, epoch numbers, YYYYMMDD or YYMMDDHH under a time-like name such as
    time_ms, created or hour, text that reads as dates under any name), 1 for a timestamp's name alone (ts, date...),
    else 0."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return 2
    exact = int(_squash(column) in _TIME_SQUASHED)
    named = int(exact or "timestamp" in _squash(column))  # utcTimestamp, event_timestamp
    head = series.iloc[: TIME_SAMPLE * 5].dropna()
    head = head[~_blank(head)].iloc[:TIME_SAMPLE]
    if not len(head):
        return named
    if is_numeric(head):
        # Numbers that are no times count by an exact time name only: purchase_timestamp, -1 off the purchase rows,
        # was the time column once any name holding "timestamp" counted.
        named = exact
        values = head.to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        whole = len(values) and np.all(np.mod(values, 1) == 0)
        if whole and set(_parts(column)) & _DATE_CODE_WORDS and _date_codes(values):
            return 2
        if whole and _GENERIC_NAME.fullmatch(str(column).strip()) and _epoch_seconds(values):
            return 2  # MovieLens' u.data named c1..c4 on Data: its c4 (881250949...) was a category of 788 values
        if not len(values) or not set(_parts(column)) & _TIME_WORDS:
            return named
        if np.any(np.mod(values, 1) != 0):
            epoch = values.min() >= _EPOCH[0] and values.max() < 1e10  # fractional epoch seconds
        elif _date_codes(values) or _hour_codes(values):
            epoch = True
        elif values.min() >= _YYYYMMDD[0] and values.max() <= _YYYYMMDD[1]:
            epoch = False  # in the range of date codes, but not dates: no epoch numbers either
        else:
            epoch = values.min() >= _EPOCH[0] and values.max() < _EPOCH[1] and values.max() < 100 * values.min()
            epoch = epoch or _epoch_unit_powers(values) is not None  # seconds beside milliseconds (parse_time)
        return 2 if epoch else named
    if not (pd.api.types.is_object_dtype(head) or pd.api.types.is_string_dtype(head)):
        return named
    text = head.astype(str)
    return 2 if text.str.fullmatch(_DATE_TEXT).all() and parse_time(text).notna().all() else named


# Names that say nothing (the Data page's c1, c2... for a file without a header, pandas' positions, V3, col_4): their
# numbers are judged by their values alone
_GENERIC_NAME = re.compile(r"(?i)(?:c|col|column|field|f|v|var|x)?[ _:-]?\d+|unnamed[ _:]*\d*")
_EPOCH_RANGE = (631_152_000, 2_208_988_800)  # 1990-01-01 to 2040-01-01, in seconds (MovieLens 100K: 1997)


def _epoch_seconds(values: np.ndarray) -> bool:
    """Whole numbers that are all epoch seconds of 1990-2040, many of them distinct (not one code repeated): a
    time under a name that says nothing; ids of 9 or 10 digits are rarely all within those 50 years."""
    if len(values) < 20 or not (_EPOCH_RANGE[0] <= values.min() and values.max() < _EPOCH_RANGE[1]):
        return False
    return len(np.unique(values)) >= 0.5 * len(values)


UNNAMED_TIME = "no column is named as a time"  # the start of _unnamed_time_note's note (dropped once one is chosen)


def _unnamed_time_note(series: dict, nunique: dict, ids: tuple) -> str | None:
    """When no time column was found: a note naming a numeric column whose values read as epoch seconds or
    milliseconds of 1990-2040, mostly distinct, under a name that does not say time (`unix`, `clicktime`): it was a
    numeric feature without a word, and --split time failed without naming it (an audit)."""
    for column, s in series.items():
        if column in ids or not is_numeric(s) or nunique[column] < 20:
            continue
        values = s.dropna().to_numpy(dtype=float)[: TIME_SAMPLE * 5]
        values = values[np.isfinite(values)]
        if not len(values) or np.any(np.mod(values, 1) != 0):
            continue
        unit = "seconds" if _epoch_seconds(values) else "milliseconds" if _epoch_seconds(values // 1000) else None
        if unit is None:
            continue
        seconds = values if unit == "seconds" else values / 1000
        first, last = (pd.Timestamp(v, unit="s").strftime("%Y-%m-%d") for v in (seconds.min(), seconds.max()))
        return (
            f"{UNNAMED_TIME}, but '{column}' holds whole numbers that read as epoch {unit} ({first} to "
            f"{last}): if they say when each row happened, make it the time column (CLI: --time-col "
            f"{shlex.quote(str(column))}; on Data: the time box), for the time split and a user's latest row; it is a "
            "numeric feature now"
        )
    return None


EXCEL_DAYS = (32_874, 51_500)  # Excel's serial day numbers of 1990-01-01 and of 2040 (days since 1899-12-30)


def _excel_dates_note(series: dict, ids: tuple) -> str | None:
    """When no time column was found: a note naming a numeric column named as a date or time (order_date) whose
    values read as Excel's serial dates of 1990-2040 (45352.003: days since 1899-12-30, with the time of day as a
    fraction), how a spreadsheet saved as CSV writes dates formatted as numbers; it was a numeric feature without a
    word (an audit). Days since 1970 (19,000-25,000 for 2022-2040) stay below that range."""
    for column, s in series.items():
        if column in ids or not is_numeric(s) or not set(_parts(str(column))) & (_TIME_WORDS | {"day", "dt"}):
            continue
        values = s.dropna().to_numpy(dtype=float)[: TIME_SAMPLE * 5]
        values = values[np.isfinite(values)]
        if len(values) < 2 or values.min() < EXCEL_DAYS[0] or values.max() > EXCEL_DAYS[1]:
            continue
        first, last = (
            (pd.Timestamp("1899-12-30") + pd.to_timedelta(v, unit="D")).strftime("%Y-%m-%d")
            for v in (values.min(), values.max())
        )
        return (
            f"no time column was found, but '{column}' holds numbers that read as Excel's serial dates ({first} to "
            f"{last}: days since 1899-12-30): to use it as the time, save the column as dates (in Excel, format it "
            f"as a date before saving as CSV) or convert it (pandas: pd.to_datetime(df[{str(column)!r}], unit='D', "
            f"origin='1899-12-30')); it is a numeric feature now"
        )
    return None


def _date_codes(values: np.ndarray) -> bool:
    """Integers that are all YYYYMMDD dates (20240501)."""
    if not (values.min() >= _YYYYMMDD[0] and values.max() <= _YYYYMMDD[1]):
        return False
    days = values.astype(np.int64)
    month = days // 100 % 100
    return bool(np.all((month >= 1) & (month <= 12) & (days % 100 >= 1) & (days % 100 <= 31)))


def _hour_codes(values: np.ndarray) -> bool:
    """Integers that are all YYMMDDHH date-hours (Avazu's hour: 14102100; 2019's 19010100 too, in the range of
    YYYYMMDD dates but with hour 00 where a day would be)."""
    if not (values.min() >= _YYMMDDHH[0] and values.max() < _YYMMDDHH[1]):
        return False
    hours = values.astype(np.int64)
    month, day = hours // 10_000 % 100, hours // 100 % 100
    return bool(np.all((month >= 1) & (month <= 12) & (day >= 1) & (day <= 31) & (hours % 100 <= 23)))


def _row_index(column: str, series: pd.Series) -> bool:
    """A column of distinct integers that numbers the rows: named so ("Unnamed: 0" from to_csv, index) or 0..n-1."""
    if _squash(column) in ("", "index", "idx", "row", "rowid", "rownum") or _squash(column).startswith("unnamed"):
        return True
    return bool(series.max() - series.min() == len(series) - 1)


def _saved_index_restarts(column: str, series: pd.Series) -> int | None:
    """How often a saved pandas index starts again ("Unnamed: 0" of pd.concat(parts).to_csv(): 0..999 three times),
    or None when the column is not one: named as an index, no missing values, and counting up but for a few steps
    (at most 1% of them; each a new part)."""
    squashed = _squash(column)
    if not (squashed in ("", "index", "idx", "rownum") or squashed.startswith("unnamed")) or series.isna().any():
        return None
    steps = np.diff(series.to_numpy(dtype=np.float64))
    restarts = int((steps <= 0).sum())
    return restarts if 0 < restarts <= 0.01 * len(steps) else None


def show_value(value) -> str:
    """A value as a person would write it in a message: 3, 0.5, 'abc' (long text cut), empty (a missing value)."""
    if (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float | np.floating) and np.isnan(value))
    ):
        return "empty"
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    text = str(value)
    return quoted(text if len(text) <= 40 else text[:37] + "...")


def quoted(text: str) -> str:
    """Text in quotes as written: '\\N' (Hive's NULL) shows one backslash, where repr doubled it; text with a quote
    or a character that does not print (a tab, a line break) as repr writes it."""
    return f"'{text}'" if text.isprintable() and "'" not in text else repr(text)


def _row_list(rows: np.ndarray) -> str:
    """'row 17' / 'rows 3, 9, 11, ...': the first few of some 0-based row positions, as 1-based data rows."""
    shown = fmt.listing([r + 1 for r in rows[:4]], 3)
    return f"{'row' if len(rows) == 1 else 'rows'} {shown}"


def text_in_numbers(series: pd.Series) -> str | None:
    """Where a column of numbers holds text ('2 rows (rows 3, 9, e.g. 'cheap')'), or None. Empty strings are
    missing values (a CSV reader makes them so; Parquet keeps them as text)."""
    if _numeric_dtype(series.dtype):
        return None
    converted = pd.to_numeric(series, errors="coerce")
    blank = series.astype("string").str.strip().eq("").fillna(False)
    bad = (converted.isna() & series.notna() & ~blank).to_numpy()
    return _where(series, bad) if bad.any() else None


def _where(series: pd.Series, mask: np.ndarray) -> str:
    """'1 row (row 17, e.g. 'x')' / '5 rows (rows 3, 9, 11, ..., e.g. 'x')', for messages."""
    rows = np.flatnonzero(mask)
    return (
        f"{len(rows):,} row{'' if len(rows) == 1 else 's'} ({_row_list(rows)}, e.g. {show_value(series.iloc[rows[0]])})"
    )


def _missing_explained(frame: pd.DataFrame, label: str, missing: np.ndarray) -> tuple[str, str] | None:
    """A column of a few values (at most EVENT_TYPES) whose values say exactly where a label is missing (Avito's
    IsClick, empty exactly where ObjectType is not 3), and those values ('1 or 2'); None when no column does. The
    first 200 other columns are looked at, for labels missing in 10 rows or more."""
    if missing.all() or missing.sum() < 10:  # a few rows line up with some value by chance
        return None
    for column in [c for c in frame.columns if c != label][:200]:
        s = frame[column]
        if s.isna().any() or not 2 <= s.nunique() <= EVENT_TYPES:
            continue
        share = pd.Series(missing).groupby(s.to_numpy()).mean()
        if share.isin([0.0, 1.0]).all():
            shown = [show_value(v) for v in share.index[share == 1.0]]
            return str(column), " or ".join(shown) if len(shown) <= 3 else fmt.listing(shown, 4)
    return None


def _text_values(s: pd.Series) -> bool:
    """Whether a label column (no missing values) holds text, not numbers or one 0/1 spelling."""
    numeric = pd.to_numeric(s, errors="coerce") if not is_numeric(s) else s
    return bool(numeric.isna().mean() > 0.5 and binary_coding(s) is None and (~_odd_values(s)).mean() < MOSTLY_BINARY)


LABELLED_APART = 0.5  # all tasks labelled on fewer than this share of the rows any of them is labelled on


def _labelled_apart(frame: pd.DataFrame, tasks: list[str]) -> list[str]:
    """A problem when two tasks or more miss their labels on different rows (each outcome logged for some events
    only): dropping the rows that miss any, as each task's own problem advises, would leave few rows (35 of 1M, and
    a run of them reported like AUC 1.0000). Every task is trained on every row here, so such tasks go in runs of
    their own, or each on its labelled rows only (TaskSpec.labelled_only, whose tasks are not counted here)."""
    missing = {t: frame[t].isna().to_numpy() for t in tasks}
    partial = [t for t, m in missing.items() if m.any() and not m.all()]
    if len(partial) < 2:
        return []
    labelled = [~missing[t] for t in partial]
    some, every = np.logical_or.reduce(labelled), np.logical_and.reduce(labelled)
    if every.sum() >= LABELLED_APART * some.sum():
        return []
    counts = ", ".join(f"'{t}' {int(m.sum()):,}" for t, m in zip(partial, labelled, strict=True))
    n = int(every.sum())
    have = "no row has" if not n else f"only {n:,} row{' has' if n == 1 else 's have'}"
    return [
        f"tasks {', '.join(repr(t) for t in partial)} are labelled on different rows ({counts} of {len(frame):,} "
        f"rows): {have} all {len(partial)}, so dropping the rows that miss any leaves too few to train on. Train "
        f"each on its labelled rows only (on Train, tick 'labelled rows only' beside each; CLI: "
        f"`--labelled-only {','.join(cli_column(t) for t in partial)}`), or each in a run of its own (CLI: "
        f"`--tasks {cli_column(partial[0])}`), or fill a missing label where it truly means 0 "
        f"({how_to('fill', partial[0], '=0')})"
    ]


def _label_problems(
    frame: pd.DataFrame,
    task: TaskSpec,
    notes: list[str],
    source: str,
    training: bool = True,
    alone: bool = False,
    others: frozenset = frozenset(),
    conditional: bool = False,
) -> list[str]:
    """Why a task's column cannot be a label. A constant column is one only in the `training` data: in a test file
    (a day without purchases) it is a note of prepare's (one class only: the AUC is undefined), not an error.
    `alone`: the run's only task, for which training on its labelled rows only is dropping the others (not said).
    `others`: the run's other tasks' names; `conditional`: ESMM's task conditional on another."""
    s = frame[task.name]
    where = f"{source}column '{task.name}'"
    numeric = pd.to_numeric(s, errors="coerce") if not is_numeric(s) else s
    missing = s.isna().to_numpy()
    if missing.all() and task.labelled_only and not training:
        return []  # a test file without its labels: prepare's note says its test metrics are undefined
    if missing.all():  # "drop those rows" would drop every row
        return [f"{where} (task) has no values at all (every row is missing): leave it out of the tasks"]
    if missing.any() and task.labelled_only:  # trained and measured on its labelled rows: those are checked below
        if (labelled := int((~missing).sum())) < MIN_LABELLED and training:
            return [
                f"{where} (task, labelled rows only) is labelled in {labelled:,} row{'s' if labelled != 1 else ''} of "
                f"{len(s):,}; at least {MIN_LABELLED} are needed to train and measure it: leave it out of the tasks"
            ]
    elif missing.any() and conditional and task.type == "binary":
        # ESMM's conditional task: its labelled-only advice led to ESMM's refusal (a review)
        return [
            f"{where} (task) has missing values in {_where(s, missing)}: ESMM learns it over every row as a step "
            f"after another task, so where it is missing it did not happen: fill them with 0 "
            f"({how_to('fill', str(task.name), '=0')}), or choose another architecture and train it on its labelled "
            "rows only"
        ]
    elif missing.any():
        explained = _missing_explained(frame, task.name, missing)
        if explained is not None and explained[0] in others and s.nunique() > 1:
            # The rows it misses are a task's own (a dwell time where click is 0): dropping them, the advice first
            # given, left click 1 in every row, refused next (a browser audit)
            column, values = explained
            problem = (
                f"{where} (task) has missing values in {_where(s, missing)}, exactly the rows where task '{column}' is "
                f"{values}: the label is not recorded there. Train it on its labelled rows only (on Train, tick "
                f"'labelled rows only' beside it; CLI: `--labelled-only {cli_column(str(task.name))}`): task "
                f"'{column}' keeps those rows, which dropping them would take from it"
                + (
                    f"; or, if it cannot happen there (a purchase without a click), fill them with 0 "
                    f"({how_to('fill', str(task.name), '=0')})"
                    if task.type == "binary"
                    else ""
                )
            )
        elif explained is not None:
            column, values = explained
            problem = (
                f"{where} (task) has missing values in {_where(s, missing)}, exactly the rows where '{column}' is "
                f"{values}: the label is not recorded there, so drop those rows rather than fill them (a filled value "
                f"would be made up; {how_to('drop', str(task.name), 'missing')})"
                + ("" if alone or s.nunique() < 2 else f", or {_labelled_only_advice(task.name)}")
            )
        else:
            problem = f"{where} (task) has missing values in {_where(s, missing)}: drop or fill those rows "
            coding = binary_coding(s)
            if coding is not None and set(coding[0].values()) == {1.0}:  # a flag written as 1 or empty
                problem += (
                    f"(every other row holds {show_value(s.dropna().iloc[0])}: if empty means 0, fill them with 0; "
                    f"{how_to('fill', str(task.name), '=0')})"
                )
            else:
                problem += f"({how_to('drop', str(task.name), 'missing')})"
            # not for a flag written as 1 or empty: its labelled rows would be a constant label
            problem += "" if alone or s.nunique() < 2 else f", or {_labelled_only_advice(task.name)}"
        # Text in the other rows is a problem too: one fixed, the next one showed (Mercari's category_name)
        present = s[~missing]
        if len(present) and _text_values(present) and (task.type == "regression" or present.nunique() > 2):
            return [problem, _text_label_problem(present, where)]
        return [problem]
    if is_numeric(s):
        values = s.to_numpy(dtype=float)
        inf = np.isinf(values)
        if inf.any():
            return [f"{where} (task) has infinite values in {_where(s, inf)}: fix or drop those rows"]
        huge = np.abs(values) > TOO_LARGE
        if huge.any():  # 1e308: the standard deviation overflowed, and the run "finished" with NaN metrics
            sides = ((f"> {TOO_LARGE:g}", values > TOO_LARGE), (f"< -{TOO_LARGE:g}", values < -TOO_LARGE))
            drops = tuple(drop for drop, beyond in sides if beyond.any())  # '> 1e+150' left -1e308 in place
            return [
                f"{where} (task) has values beyond ±{TOO_LARGE:g} in {_where(s, huge)}, too large to standardise (a "
                f"placeholder?): fix or drop those rows ({how_to('drop', str(task.name), drops)})"
            ]
    if _text_values(s.dropna()) and (task.type == "regression" or s.nunique() > 2):  # two words: recoded below
        return [_text_label_problem(s, where)]
    if task.type == "binary":
        coding = binary_coding(s)
        if coding is None:
            return [_binary_problem(s, where)]
        if coding[1]:
            notes.append(f"{where}: {coding[1]}")
    else:
        bad = numeric.isna().to_numpy() & ~missing
        if bad.any():
            return [f"{where} is a regression task but has non-numeric values in {_where(s, bad)}: clean them"]
        if task.log1p and float(numeric.min()) < 0:
            return [f"{where}: log1p needs values >= 0 but the minimum is {float(numeric.min()):g}; turn log1p off"]
        if (sentinel := _missing_code(task.name, numeric[~missing])) is not None:
            notes.append(f"{where}: {sentinel}")
        elif (two := _two_values(task.name, numeric)) is not None:
            notes.append(f"{where}: {two}")
    if training and s.nunique() < 2:
        rows = "every labelled row" if missing.any() else "every row"
        return [
            f"{where} (task) has the same value ({show_value(s.dropna().iloc[0])}) in {rows}: nothing can be learned "
            "from it; drop the task or use data where it varies"
        ]
    return []


MIN_LABELLED = 30  # labelled rows a task trained on its labelled rows only needs (before the split)


def _labelled_only_advice(task: str) -> str:
    """How to keep a label's missing rows and train the task on its labelled rows only."""
    return (
        f"keep them and train '{task}' on its labelled rows only (on Train, tick 'labelled rows only' beside it; CLI: "
        f"`--labelled-only {cli_column(task)}`): the other tasks still learn from those rows"
    )


NEAR_TWINS = 0.999  # two binary tasks whose positives coincide on this share of the rows where either is 1: a note


def _positives(frame: pd.DataFrame, tasks: list[TaskSpec]) -> dict[str, np.ndarray]:
    """Per binary task (readable labels), where it is 1 (all False for a column with no positive value)."""
    labels = {}
    for task in tasks:
        coding = binary_coding(frame[task.name])
        one = [value for value, code in coding[0].items() if code == 1] if coding else []
        labels[task.name] = (frame[task.name] == one[0]).to_numpy(dtype=bool) if one else np.zeros(len(frame), bool)
    return labels


def _twin_pairs(
    frame: pd.DataFrame, tasks: list[TaskSpec], labels: dict[str, np.ndarray] | None = None
) -> list[tuple[TaskSpec, TaskSpec, bool, int]]:
    """Pairs of binary tasks (readable labels) whose positives coincide, one with the other or with the other's
    negatives (opposite), on at least NEAR_TWINS of the rows where either is 1: (a, b, opposite, rows differing).
    Only pairs whose counts of positives allow it are compared row by row (24 tasks make 276 pairs). `labels`: the
    tasks' _positives, when the caller has them."""
    labels = _positives(frame, tasks) if labels is None else labels
    positives = {name: int(y.sum()) for name, y in labels.items()}
    pairs = []
    for i, a in enumerate(tasks):
        for b in tasks[i + 1 :]:
            for opposite in (False, True):
                count_a, count_b = positives[a.name], len(frame) - positives[b.name] if opposite else positives[b.name]
                if min(count_a, count_b) < NEAR_TWINS * max(count_a, count_b) or not max(count_a, count_b):
                    continue  # |A & B| <= min and |A | B| >= max: too few in common
                x, other = labels[a.name], ~labels[b.name] if opposite else labels[b.name]
                both, either = int((x & other).sum()), int((x | other).sum())
                if either and both >= NEAR_TWINS * either:
                    pairs.append((a, b, opposite, either - both))
    return pairs


def beside_source(frame: pd.DataFrame, source: str, label: str) -> str:
    """How a 0/1 label made from column `source` (a fix's) stands to that column as a task: "both" (both can be
    trained), "repeat" (the same 0/1 or its opposite in every row: one task twice, which validation refuses; a label
    'like == 0' of a 0/1 like), or "not_binary" (the column is no 0/1 label, 'converted'/'not converted')."""
    if source not in frame or binary_coding(frame[source]) is None:
        return "not_binary"
    if label in frame and binary_coding(frame[label]) is not None:
        if any(not differing for *_, differing in _twin_pairs(frame, [TaskSpec(source), TaskSpec(label)])):
            return "repeat"
    return "both"


EXCLUSIVE_EXPECTED = 10  # rows where two binary tasks would both be 1 by chance, from which none at all is a note


def _exclusive_tasks(labels: dict[str, np.ndarray], n: int) -> list[str]:
    """A note per pair of binary tasks (their _positives over `n` rows) never 1 in the same row where chance alone
    would put them together in at least EXCLUSIVE_EXPECTED rows: labels made from one row per event (Taobao's
    behavior_type: buy and cart) exclude each other, which the page said before the labels were made and not after
    (a browser walk with such a file)."""
    notes, names = [], list(labels)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            expected = labels[a].sum() * labels[b].sum() / n if n else 0.0
            if expected >= EXCLUSIVE_EXPECTED and not (labels[a] & labels[b]).any():
                notes.append(
                    f"tasks '{a}' and '{b}' are never 1 in the same row (by chance about {expected:,.0f} rows would "
                    "hold both): labels made from one row per event exclude each other, so the model learns them as "
                    "competing outcomes of a row; to learn a cart and a purchase of the same item together, group the "
                    "rows to one per user (or session) and item, each label the max over its rows"
                )
    return notes


REGRESSION_TWINS = 0.999  # |Spearman| from which two regression tasks are one task twice (a rescaled copy)
TWIN_ROWS = 200_000  # rows compared at most (the first ones)


def _regression_twins(frame: pd.DataFrame, tasks: list[TaskSpec]) -> list[tuple[TaskSpec, TaskSpec, float]]:
    """Pairs of regression tasks whose values rise and fall together (or one as the other falls) on the rows both
    have: a rescaled copy (rating and rating / 5, seconds and minutes watched), which trains and sweeps as two tasks
    where there is one (a sweep between them draws a trade-off that is not there). (a, b, Spearman)."""
    if len(tasks) < 2:
        return []
    values = pd.DataFrame(
        {t.name: pd.to_numeric(frame[t.name].iloc[:TWIN_ROWS], errors="coerce") for t in tasks}
    ).replace([np.inf, -np.inf], np.nan)
    pairs = []
    for i, a in enumerate(tasks):
        for b in tasks[i + 1 :]:
            both = values[[a.name, b.name]].dropna()
            if len(both) < MIN_LABELLED or both[a.name].nunique() < 2 or both[b.name].nunique() < 2:
                continue
            rho = float(both[a.name].corr(both[b.name], method="spearman"))
            if np.isfinite(rho) and abs(rho) >= REGRESSION_TWINS:
                pairs.append((a, b, rho))
    return pairs


def _rescaled(rho: float) -> str:
    return "a rescaled copy of" if rho > 0 else "the reverse of"


def _twin_tasks(
    frame: pd.DataFrame, tasks: list[TaskSpec], notes: list[str], labels: dict[str, np.ndarray] | None = None
) -> list[str]:
    """A problem per pair of binary tasks with the same label in every row, or opposite ones (Alimama's clk and nonclk
    = 1 - clk; Tenrec QB's read, a copy of click): one task twice, which trains and sweeps as two (a sweep drew a
    "Pareto front" between clk and nonclk). Refused, not warned about: the pair doubles that task's loss weight and
    makes the gradient cosine and a sweep's trade-off meaningless, and one task gives the other's predictions. A
    note for a pair that differs on a few rows (NEAR_TWINS)."""
    problems = []
    for a, b, opposite, differing in _twin_pairs(frame, tasks, labels):
        how, twice = ("the opposite label", "written both ways") if opposite else ("the same label", "twice")
        if not differing:
            problems.append(
                f"tasks '{a.name}' and '{b.name}' have {how} in every row: they are one task {twice}, so training "
                "both learns nothing more (and a sweep between them draws no trade-off); keep one of them"
            )
        else:
            notes.append(
                f"tasks '{a.name}' and '{b.name}' have {how} in all but {differing:,} of {len(frame):,} rows: nearly "
                f"one task {twice}; unless those rows matter, keep one of them"
            )
    return problems


def _funnel_labelled_only(config: ExperimentConfig) -> list[str]:
    """ESMM's conditional task trained on its labelled rows only: ESMM learns it as pCTR x pCVR against 'both
    happened' over every impression, where a purchase after no click is 0, not missing; on the clicked rows only,
    that is what ESMM is built to avoid (a review: accepted without a word)."""
    if config.model.kind != "esmm":
        return []
    partial = {t.name for t in config.tasks if t.labelled_only}
    return [
        f"ESMM trains task '{child}' as p({parent}) x p({child} | {parent}) over every row, where no {parent} means no "
        f"{child} (0, not missing); trained on its labelled rows only it would learn from the {parent} rows alone, "
        f"which ESMM exists to avoid: fill its missing values with 0 ({how_to('fill', child, '=0')}) and untick "
        "'labelled rows only', or choose another architecture"
        for child, parent in (config.model.funnel or {}).items()
        if child in partial
    ]


def _regression_twin_problems(frame: pd.DataFrame, tasks: list[TaskSpec]) -> list[str]:
    """A problem per pair of regression tasks that are one task twice (_regression_twins)."""
    return [
        f"task '{b.name}' is {_rescaled(rho)} task '{a.name}' (rank correlation {rho:+.4f} on the rows both have): "
        "one task twice, so training both learns nothing more (and a sweep between them draws no trade-off); keep "
        "one of them"
        for a, b, rho in _regression_twins(frame, tasks)
    ]


# A regression label's lowest value is read as a code for "missing" when it is in at least this share of the rows.
MISSING_CODE_SHARE = 0.05


def _missing_code(name: str, values: pd.Series) -> str | None:
    """What to say of a regression label whose lowest value is a lone whole number far below the others and frequent,
    a code for "missing" (Anime's rating -1: watched, not rated; Book-Crossing's 0 beside ratings 1-10), or whose
    highest is a run of nines far above them (Jester's 99 beside ratings -10 to 10, SPSS's 999), or None. A negative
    value beside positive ones only; 0 only in a rating (a watch time of 0 is a value); nines at least twice the
    largest other value's size."""
    for code in (values.min(), values.max()):
        rest = values[values != code]
        if not len(rest) or pd.isna(code) or code % 1 or (values == code).mean() < MISSING_CODE_SHARE:
            continue
        rating = "rating" in _tokens(name) or _last_name(name) in _REGRESSION_LABEL_NAMES
        if code == values.max():
            side = "above"
            coded = code >= 99 and set(str(int(code))) == {"9"} and code >= 2 * rest.abs().max()
        else:
            side = "below"
            coded = code < 0 < rest.min() or code == 0 and rating and rest.min() >= 1 and not (rest % 1).any()
        if not coded:
            continue
        count, shown = int((values == code).sum()), show_value(code)
        column = f"df[{str(name)!r}]"
        return (
            f"{shown} in {count:,} rows ({count / len(values):.0%}) is far {side} its other values "
            f"({show_value(rest.min())} to {show_value(rest.max())}): it looks like a code for missing (e.g. watched "
            f"but not rated), which trains as a value; if so, drop those rows ({how_to('drop', str(name), f'== {shown}')}; "
            f"in pandas: df = df[{column} != {shown}]), or, to predict whether a value is given, make a 0/1 task of "
            f"them instead of '{name}' (e.g. {how_to('label', str(name), f'!= {shown}', name='rated')}) and leave "
            f"'{name}' out of the tasks (CLI: --exclude {shlex.quote(str(name))}; on Data: its role ignore): as a task "
            f"it would still learn {shown} as a value"
        )
    return None


def _two_values(name: str, values: pd.Series) -> str | None:
    """What to say of a regression label of two values only (H&M's sales_channel_id 1/2 named with --tasks): an
    outcome of two kinds, which a binary task learns as a probability and judges by AUC; None otherwise."""
    distinct = np.sort(values.dropna().unique())
    if len(distinct) != 2:
        return None
    low, high = (show_value(v) for v in distinct)
    if (distinct == [0, 1]).all():
        return (
            "it holds 0 and 1 only: as a binary task (CLI: --task-types binary; on Data: type binary) it is learned as "
            "a probability with log loss and judged by AUC, instead of a regression of the two numbers"
        )
    return (
        f"it holds two values only ({low} and {high}): if they are two kinds of outcome, a 0/1 task learns them as a "
        f"probability and is judged by AUC ({how_to('label', str(name), f'== {high}', name=f'{name}_{high}')}), "
        "instead of a regression of the two numbers"
    )


# A column of space-separated "<id>-<0/1>" tokens: MIND's impressions (N4610-1 N2405-0), one row per impression list.
_IMPRESSION_LIST = re.compile(r"\s*\S+-[01](\s+\S+-[01])+\s*")
EVENT_TYPES = 50  # a text column with at most this many values, named as a task, holds event types (pv, buy...)


def _reshape(column: str) -> str:
    """How to make one row per impressed item of a column of impression lists, with the line of pandas that does it."""
    return (
        "reshape the file to one row per impressed item with a 0/1 column (N4610-1 -> item N4610, click 1), e.g. "
        f"with pandas (df the file as read): df = df.assign(impression=df[{column!r}].str.split()).explode("
        "'impression'); df[['item_id', 'click']] = df['impression'].str.rsplit('-', n=1, expand=True); "
        f"df.drop(columns=[{column!r}, 'impression']).to_csv('impressions.csv', index=False)"
    )


def _impression_lists(present: pd.Series) -> bool:
    """Whether a column's values (present ones, as text) are mostly impression lists, judged on the first 200."""
    return bool(len(present)) and present.iloc[:200].str.fullmatch(_IMPRESSION_LIST).mean() > 0.5


# A number followed by a unit (12.5 s, 3 min, 40ms, 12 %, 5 stars, 3 Std.: letters of any script), and a duration
# written m:ss or h:mm:ss (0:11, 1:02:03): a label written so is text to convert, not a label nor a category.
_NUMBER = r"[-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?"
_WITH_UNIT = re.compile(rf"\s*{_NUMBER}\s*(%|[^\W\d_]+(?:/[^\W\d_]+)?\.?)\s*")
_PLAIN_NUMBER = re.compile(rf"\s*{_NUMBER}\s*")
_DURATION = re.compile(r"\s*-?\d+:[0-5]\d(:[0-5]\d)?(?:[.,]\d+)?\s*")


def _written_quantity(uniques: np.ndarray) -> tuple[str, list[str]] | None:
    """How text values write numbers: ("unit", units in order of appearance) for numbers with a unit, ("m:ss" or
    "h:mm:ss" or "m:ss and h:mm:ss", []) for durations; None for other text. Judged on the first 1,000 distinct
    values, of which MOSTLY_NUMERIC must be so written (or plain numbers: 0 beside 12 s)."""
    head = pd.Series(uniques[:1000], dtype=object).astype(str)
    plain = head.str.fullmatch(_PLAIN_NUMBER)
    units = head.str.extract(f"^{_WITH_UNIT.pattern}$")[0]
    durations = head.str.extract(f"^{_DURATION.pattern}$", expand=False)
    timed = head.str.fullmatch(_DURATION)
    if units.notna().any() and (units.notna() | plain).mean() >= MOSTLY_NUMERIC:
        return "unit", list(dict.fromkeys(units.dropna().str.strip()))
    if timed.any() and (timed | plain).mean() >= MOSTLY_NUMERIC:
        hours = durations[timed].notna()
        return ("h:mm:ss" if hours.all() else "m:ss and h:mm:ss" if hours.any() else "m:ss"), []
    return None


def _quantity_advice(name: str, uniques: np.ndarray) -> str | None:
    """What a label written with a unit or as durations holds and how to make it a number, after "column 'x' ";
    None for other text."""
    written = _written_quantity(uniques)
    if written is None:
        return None
    kind, units = written
    shown = fmt.listing(uniques, 4, show_value)
    column = f"df[{str(name)!r}]"
    if kind == "unit" and len(units) == 1:
        return (
            f"holds numbers with a unit ({shown}), not plain numbers: remove the unit {units[0]!r} to make it a task "
            f"(in pandas: {column} = pd.to_numeric({column}.str.rstrip({' ' + units[0]!r})))"
        )
    if kind == "unit":
        return (
            f"holds numbers in several units ({fmt.listing(units, 4, repr)}; e.g. {shown}): convert them to one unit, "
            "as plain numbers, to make it a task"
        )
    text = {
        "m:ss": f"pd.to_timedelta('0:' + {column})",
        "h:mm:ss": f"pd.to_timedelta({column})",
        "m:ss and h:mm:ss": f"pd.to_timedelta({column}.where({column}.str.count(':') == 2, '0:' + {column}))",
    }[kind]
    return (
        f"holds durations written {kind} ({shown}), not numbers: convert them to seconds to make it a task "
        f"(in pandas: {column} = {text}.dt.total_seconds())"
    )


def _text_label_problem(s: pd.Series, where: str) -> str:
    """Why a text column is no label: a list per row to reshape, numbers with a unit or durations to convert, event
    types to split into 0/1 columns, or text."""
    return f"{where} {_text_label_advice(s)}"


def _text_label_advice(s: pd.Series) -> str:
    """_text_label_problem's words after "column 'x' "."""
    present = s.dropna().astype(str)
    uniques = pd.unique(present)
    shown = fmt.listing(uniques, 6, show_value)
    if _impression_lists(present):
        return (
            f"holds lists of impressions with their labels (e.g. {show_value(present.iloc[0])}), not one "
            f"label per row: {_reshape(str(s.name))}, and make that column the task"
        )
    if (advice := _quantity_advice(s.name, uniques)) is not None:
        return advice
    if len(uniques) <= EVENT_TYPES:
        first = show_value(uniques[0])
        made = how_to(
            "label", str(s.name), f"== {_quoted_text(str(uniques[0]))}", name=_new_label_name(str(uniques[0]))
        )
        return (
            f"holds text categories ({shown}), not a label: to predict one of them, add a 0/1 column per "
            f"value you want to predict (e.g. 1 where '{s.name}' is {first}, else 0: {made}) and make "
            "those the tasks; or use the column as a categorical feature"
        )
    return f"holds text ({len(uniques):,} distinct values, e.g. {shown}), not a label: choose a 0/1 or numeric column"


def _binary_problem(s: pd.Series, where: str) -> str:
    """Why a column is not a binary label: a few odd rows (named), or values that are not one 0/1 spelling."""
    uniques = pd.unique(s.dropna())  # a task trained on its labelled rows only has missing rows
    nunique = len(uniques)
    try:  # in order (0, 1, 2, 3, 10: they read '0, 10, 2, 1, 3' in the order met)
        uniques = np.array(sorted(uniques), dtype=object)
    except TypeError:  # numbers beside text: as met
        pass
    shown = ", ".join(show_value(v) for v in uniques[:6]) + (", ..." if nunique > 6 else "")
    head = f"{where} is a binary task but has {nunique} distinct values ({shown})"
    odd = _odd_values(s)
    if odd.any() and (~odd[s.notna().to_numpy()]).mean() >= MOSTLY_BINARY:
        # the drop for each odd value (up to 3): the form and the CLI started at no fix (a browser audit)
        values = pd.unique(s[odd])
        drops = tuple(f"== {_fix_value(v)}" for v in values[:3])
        hint = f" ({how_to('drop', str(s.name), drops)})" if len(values) <= 3 else ""
        return f"{head}; values that are not 0/1 are in {_where(s, odd)}: fix or drop those rows{hint}"
    if nunique == 2:
        rarer, made = _label_example(s)
        return (
            f"{head}, and which one means positive is ambiguous: make a 0/1 label of it (e.g. 1 where it is "
            f"'{rarer}': {made}; the label is then the task, in place of '{s.name}'), recode them as 0/1 (accepted "
            f"as they are: {SPELLINGS}), or make it a regression task or a feature"
        )
    return (
        f"{head}: a binary label holds 0/1 (or {OTHER_SPELLINGS}); recode it, or make it a regression task or a feature"
    )


# After the hint for a column of event types: columns made row by row exclude each other (a row is one event).
_PER_PAIR = (
    "; a row per event makes them exclusive (no row is both a cart and a purchase): to predict several (an ESMM "
    "funnel), first group the rows to one per user (or session) and item, each 0/1 column the max over its rows"
)
EVENT_WORDS = {"behavior", "behaviour", "event", "action", "interaction"}  # not "type": device_type is a feature


def _fix_value(value) -> str:
    """A value as a fix's condition takes it: a number as written (2, 0.5), text as _quoted_text gives it."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value)).lower()
    if isinstance(value, int | np.integer | float | np.floating):
        return f"{value:g}" if float(value) != int(value) else str(int(value))
    text = str(value).strip()
    # '2' in a column of text: a fix compares numbers stored as text as numbers, so == 2 finds it
    return text if isinstance(parse_value(text), int | float) else _quoted_text(str(value))


def _quoted_text(value: str) -> str:
    """A text value as a fix's command line takes it: quoted when it would read as a number or true/false."""
    return value if isinstance(parse_value(value), str) and value[:1] not in "'\"" else repr(value)


def _new_label_name(value: str) -> str:
    """A new label's name from an event type: 'addtocart', 'buy'; a name that would need quoting becomes is_<n>."""
    name = re.sub(r"\W+", "_", value).strip("_")
    return name if name and not name[0].isdigit() else f"is_{name}"


def label_hint(frame: pd.DataFrame) -> str:
    """For a file with no label recognised, what to do: reshape MIND-style impression lists, split an event-type
    column (Taobao's behavior_type: pv, buy, cart, fav) into 0/1 columns, or else the columns that read as 0/1. Of
    several event-type columns, the first whose types include an outcome (Coveo's product_action: detail, add,
    purchase; before it, event_type: pageview, event_product, which was offered)."""
    first = None  # the hint of the first event-type column, when no column names an outcome among its types
    for column in frame.columns:
        s = frame[column]
        if is_numeric(s):
            if (hint := _event_codes_hint(column, s)) is not None:
                return hint
            continue
        present = s.iloc[:1000].dropna().astype(str)
        if _impression_lists(present):
            return (
                f"; column '{column}' holds lists of impressions with their labels (e.g. {show_value(present.iloc[0])}"
                f"): {_reshape(str(column))}, and name that column"
            )
        if set(_parts(str(column))) & EVENT_WORDS and 2 <= s.nunique() <= EVENT_TYPES:
            values = [str(v) for v in pd.unique(s.dropna())]
            # The example: the rarest type named as an outcome (Taobao's buy, Trivago's clickout item), else the
            # rarest; the last one seen had made Trivago's "search for destination" the example.
            counts = s.dropna().astype(str).value_counts()
            named = [v for v in values if set(_parts(v)) & (_BINARY_LABEL_TOKENS | {"clickout"})]
            example = min(reversed(named or values), key=lambda v: counts[v])  # a tie: the later one
            hint = (
                f"; column '{column}' holds event types ({', '.join(values[:6])}): add a 0/1 column per type you want "
                f"to predict (e.g. {example} = 1 where {column} is '{example}', else 0: "
                f"{how_to('label', str(column), f'== {_quoted_text(example)}', name=_new_label_name(example))}) and "
                f"name those{_PER_PAIR}{_grouping(frame, str(column))}"
            )
            if named:
                return hint
            first = first or hint
    if first or (first := _matrix_hint(frame) or binary_columns_hint(frame)):
        return first
    rating, named = _rating_hint(frame)
    two = _two_valued_hint(frame)
    # A count beside a two-valued outcome (Census-Income's num_persons_worked_for_employer, 0-6, beside its income
    # ' - 50000.' / ' 50000+.'): both, the outcome first, unless the count is named as a rating (an audit)
    return (rating + two if named else two + rating) or POSITIVES_ONLY


def _two_valued_hint(frame: pd.DataFrame, limit: int = 6) -> str:
    """'; columns holding two values, from which a 0/1 label can be made: income, sex (e.g. …--label …)', or '':
    a table of people (Census-Income's income ' - 50000.' / ' 50000+.') was told to sample negatives, which needs
    user and item columns it does not have (an audit)."""
    found = []
    for column in frame.columns:
        series = frame[column]
        if is_numeric(series) or series.iloc[:1000].nunique() > 2 or series.nunique() != 2:
            continue
        found.append(str(column))
        if len(found) > limit:
            break
    if not found:
        return ""
    # The example: the column whose rarer value is rarest (an outcome: income 50000+ in 6%, not sex at 50%)
    counts = {c: frame[c].dropna().astype(str).str.strip().value_counts() for c in found[:limit]}
    column = min(counts, key=lambda c: counts[c].iloc[-1] / counts[c].sum())
    rarer, made = _label_example(frame[column])
    return (
        f"; columns holding two values, from which a 0/1 label can be made: {fmt.listing(found, limit)} (e.g. 1 "
        f"where {column} is '{rarer}': {made})"
    )


_NEGATIONS = {"not", "no", "non", "never", "none", "without", "didnt", "nicht", "kein", "pas"}


def _label_example(series: pd.Series) -> tuple[str, str]:
    """A two-valued column's rarer value (as text, stripped: an outcome is the rarer, income 50000+ in 6%), or its
    one value that is not a negation ('clicked' beside 'not clicked'), and the fix that makes a 0/1 label of 1 where
    the column holds it (how_to's 'label' advice)."""
    column = str(series.name)
    if is_numeric(series):  # 1 and 2: compared as the number (as text, '2' matched no row of numbers)
        value = series.dropna().value_counts().index[-1]
        rarer, condition = show_value(value).strip("'"), f"== {_fix_value(value)}"
    else:
        counts = series.dropna().astype(str).str.strip().value_counts()
        rarer = str(counts.index[-1])
        plain = [str(v) for v in counts.index if not set(_parts(str(v))) & _NEGATIONS]
        if len(plain) == 1 and len(counts) == 2:  # 'clicked' over 'not clicked', however rare
            rarer = plain[0]
        condition = f"== {_quoted_text(rarer)}"
    return rarer, how_to("label", column, condition, name=_new_label_name(f"{column}_{rarer}"))


def _grouping(frame: pd.DataFrame, column: str) -> str:
    """The pandas line that makes a 0/1 column per event type and groups the rows to one per user and item (each
    column its max: 1 if any row was that event, the latest time), for the event-type hint; '' without a user and an
    item column named so. Tested by running it."""
    user = next((c for c in frame.columns if _is_named(c, _USER_NAMES)), None)
    item = next((c for c in frame.columns if c != user and _is_named(c, _ITEM_NAMES)), None)
    if user is None or item is None:
        return ""
    return (
        f" (pandas: df = df.join(pd.get_dummies(df[{column!r}], dtype=int)).drop(columns={column!r})"
        f".groupby([{str(user)!r}, {str(item)!r}], as_index=False).max())"
    )


# Stems of numbered feature columns (f1, feature_12, emb_3, pca_1, dim_5...), not of items.
_FEATURE_STEMS = {"feature", "feat", "col", "column", "var", "emb", "embedding", "dim", "pca", "comp", "component",
                  "num", "numeric", "cat", "categorical", "field", "attr", "x", "v", "vec", "hist", "lag", "week",
                  "day", "month", "year", "hour", "q", "question", "score", "pixel", "band", "bin"}  # fmt: skip
MATRIX_COLUMNS = 10  # numbered columns of numbers (joke_1, joke_2...) from which a table is a user x item matrix


def _matrix_hint(frame: pd.DataFrame) -> str:
    """For a file with no label recognised: many numeric columns named one stem and a number (Jester's joke_1 ...
    joke_100, a ratings matrix of one row per user) are items, not features: how to reshape it to one row per user
    and item; '' when there are none."""
    stems: dict[str, list[str]] = {}
    for column in frame.columns:
        found = re.fullmatch(r"(.*?\D)?(\d+)", str(column))
        if found and pd.api.types.is_numeric_dtype(frame[column].dtype):
            stems.setdefault(found.group(1) or "", []).append(str(column))
    stem, columns = max(stems.items(), key=lambda item: len(item[1]), default=("", []))
    word = re.sub(r"[^a-z]", "", stem.lower())
    if len(columns) < MATRIX_COLUMNS or len(word) < 3 or word in _FEATURE_STEMS:
        return ""  # f1...f50, I1...I13, emb_0...emb_63: features
    others = [str(c) for c in frame.columns if str(c) not in columns]
    user = next((c for c in others if _id_named(c)), None)
    index = "" if user else ".reset_index(names='user')"  # no user column: the row number is the user
    return (
        f"; its {len(columns)} columns {columns[0]} … {columns[-1]} look like one item each, with a value per user "
        f"(a user x item matrix, as Jester's ratings): make it one row per user and item, with the value as a label "
        f"column, e.g. with pandas: df{index}.melt(id_vars=[{user or 'user'!r}], value_vars=[c for c in df.columns if "
        f"c.startswith({stem!r})], var_name='item', value_name='rating').dropna().to_csv('ratings.csv', index=False), "
        "then drop the rows of a code for missing, if the matrix has one (Jester's 99)"
    )


def _rating_hint(frame: pd.DataFrame) -> tuple[str, bool]:
    """For a file with no label recognised: a column of few whole numbers from 0 or 1 up to 10 at most, as ratings
    are (Netflix's converted rows, a headerless 'u i r' file's third column), and how to train on it ('' when
    none); and whether it is named like a rating. A column named like a rating (rating, score, stars) goes first,
    else the one with the most values (a device code of 4 values beside ratings of 5). An id or a time is no
    rating."""
    found = []
    for column in _small_whole_columns(frame):
        s = frame[column]
        name = str(column)
        if _id_named(name) or _time_evidence(name, s):  # a code of few values may be one: the hint says "if"
            continue
        values = s.dropna()  # whole numbers from 0 or 1 up to 10 (_small_whole_columns)
        if values.is_monotonic_increasing:
            continue  # sorted: a group's number (Netflix's movie ids, once made a column), not ratings
        low, high, distinct = float(values.min()), float(values.max()), values.nunique()
        if 3 <= distinct <= 11:
            named = bool(set(_parts(name)) & {"rating", "ratings", "rate", "score", "stars", "star"})
            found.append((named, distinct, name, low, high))
    if not found:
        return "", False
    named, _, name, low, high = max(found, key=lambda f: (f[0], f[1]))
    tasks = "" if "," in name else f" (--tasks {shlex.quote(name)})"  # --tasks splits names at commas
    if set(_parts(name)) & (_AGGREGATE_WORDS | {"quantity", "qty"}):
        # Dunnhumby's QUANTITY (0-3) was said to hold numbers "as ratings do", with a 'liked' label of >= 2.
        return (
            f"; column '{name}' holds counts from {low:g} to {high:g}: if it is the outcome to predict, train it as "
            f"a regression task{tasks} or make a 0/1 label of it ({how_to('label', name, '>= 1', name='positive')})"
        ), named
    cut = round(low + 0.75 * (high - low))
    return (
        f"; column '{name}' holds whole numbers from {low:g} to {high:g}, as ratings do: if it is one, train it "
        f"as a regression task{tasks} or make a 0/1 label of it ({how_to('label', name, f'>= {cut}', name='liked')})"
    ), named


def _small_whole_columns(frame: pd.DataFrame) -> list:
    """The number columns (not booleans) whose values are whole numbers from 0 or 1 up to 10, found block by block
    with numpy (_rating_hint's candidates: its checks one column at a time took 10 s on a 20,000-column file)."""
    numbers = [
        c for c, t in frame.dtypes.items() if pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t)
    ]
    width = max(1, BLOCK_VALUES // max(len(frame), 1))
    kept = []
    for start in range(0, len(numbers), width):
        chunk = numbers[start : start + width]
        values = frame[chunk].to_numpy(dtype=np.float64, na_value=np.nan).reshape(len(frame), len(chunk))
        present = ~np.isnan(values)
        with np.errstate(invalid="ignore"):
            low = np.where(present, values, np.inf).min(axis=0)
            high = np.where(present, values, -np.inf).max(axis=0)
            whole = (~present | (np.mod(values, 1) == 0)).all(axis=0)
        keep = whole & np.isin(low, (0.0, 1.0)) & (high <= 10)
        kept += [c for c, k in zip(chunk, keep, strict=True) if k]
    return kept


# With no label, no event types and no 0/1 column: every row is an interaction (Gowalla's check-ins, Dunnhumby's
# transactions), a log of positives only.
POSITIVES_ONLY = (
    "; no column reads as a label: if every row is an interaction (a check-in, a purchase), the log holds positives "
    "only, and a binary task needs negatives: sample items each user did not interact with as 0 rows, with a 0/1 "
    "label that is 1 on the logged rows (on Data: Fix the rows, Sample negatives; CLI: --negatives 4), or add the "
    "items shown but not chosen"
)


def _event_codes_hint(column: str, s: pd.Series) -> str | None:
    """The hint for event types written as integer codes (Tmall's action_type: 0 click, 1 cart, 2 buy, 3 favourite),
    or None: the name says event codes (action_type, event, not event_hour) and a few integers are the values."""
    parts = set(_parts(str(column)))
    if not (parts & EVENT_WORDS and (_code_named(column) or parts <= EVENT_WORDS)):
        return None
    values = np.sort(pd.unique(s.dropna().astype("float64")))
    if not 2 <= len(values) <= EVENT_TYPES or np.any(np.mod(values, 1) != 0) or binary_coding(s) is not None:
        return None  # an action column of 0/1 (or -1/1) is a label already: the 0/1 hint names it
    shown = [show_value(v) for v in values]
    return (
        f"; column '{column}' holds event types as codes ({fmt.listing(shown, 6)}): "
        f"add a 0/1 column per type you want to predict (e.g. {column}_{shown[-1]} = 1 where {column} is "
        f"{shown[-1]}, else 0: {how_to('label', str(column), f'== {shown[-1]}', name=f'{column}_{shown[-1]}')}) and "
        f"name those{_PER_PAIR}"
    )


def binary_columns_hint(frame: pd.DataFrame, limit: int = 8) -> str:
    """'; columns holding two values that read as 0/1: income, marital' (or '' when there is none)."""
    found = []
    for column in frame.columns:
        series = frame[column]
        head = series.iloc[:1000].dropna()  # a cheap look first: most columns show more than two values there
        if head.empty:  # none in the first rows (an ESMM purchase label missing where click is 0): the first present
            head = series.dropna().iloc[:1000]
        if binary_coding(head) is not None and (coding := binary_coding(series)) is not None and len(coding[0]) == 2:
            found.append(str(column))
            if len(found) > limit:
                break
    if not found:
        return ""
    shown = fmt.listing(found, limit)
    return f"; columns holding only two values that read as 0/1, which may be labels: {shown}"


def negatives_problems(config: ExperimentConfig) -> list[str]:
    """Tasks that sampled negatives (mtlrec.negatives) do not give a value: a task other than the fix's label and
    the binary outcomes it sets to 0 would train on the value the sampled rows copied from their real row (a
    purchase of another item, a rating of another film)."""
    problems = []
    for i, fix in enumerate(config.data.fixes, 1):
        if not isinstance(fix, dict) or "negatives" not in fix:
            continue
        kept = {fix.get("label"), *(fix.get("zero") or []), *(fix.get("unlabelled") or [])}
        for task in (t for t in config.tasks if t.name not in kept):
            problems.append(
                f"task '{task.name}' has no value in the rows sampled by fix {i} (the fix sets the binary tasks "
                "chosen before it to 0 there; any other task would copy the value of the row they were sampled for): "
                + (
                    "choose the tasks before adding the negatives fix: it then leaves a regression task empty in the "
                    "sampled rows and trains it on the real rows (labelled rows only); or train it on the rows "
                    "without that fix"
                    if task.type == "regression"
                    else "choose the tasks first, then add the negatives fix (it sets the binary tasks to 0 in the sampled "
                    "rows), or leave this task out"
                )  # fmt: skip
            )
    return problems


def validate(config: ExperimentConfig, frame: pd.DataFrame, test_frame: pd.DataFrame | None = None) -> list[str]:
    """Check the config against the data; return notes (decisions taken) or raise MtlrecError listing problems."""
    problems: list[str] = []
    wrong_types = config.type_problems()[0]
    if wrong_types:  # a config built in Python: the checks below would read its fields (AttributeError on a dict)
        raise MtlrecError(wrong_types, source="config")
    try:
        config.check()
    except MtlrecError as exc:
        problems.extend(exc.problems)
    if not config.tasks:  # point at the columns that could be labels (Census-Income's income and marital)
        hint = label_hint(frame)
        problems = [p + hint if p.startswith("choose at least one task") else p for p in problems]
    d = config.data
    notes: list[str] = []
    roles: dict[str, list[str]] = {}
    for role, cols in (
        ("user", [d.user_col]),
        ("item", [d.item_col]),
        ("time", [d.time_col]),
        ("categorical feature", d.categorical),
        ("numeric feature", d.numeric),
        ("multi-valued feature", d.multi),
        ("task", config.task_names),
    ):
        for c in cols:
            if c:
                roles.setdefault(c, []).append(role)
    for c, r in roles.items():
        if "task" in r and set(r) != {"task"}:  # a task listed twice is reported by check()
            problems.append(f"column '{c}' is both a task and a {r[0]}: a label must not also be an input")
        elif len(features := [role for role in r if role.endswith(" feature")]) > 1:
            if len(set(features)) == 1:
                problems.append(f"column '{c}' is listed twice as a feature")
            else:
                kinds = [role.removesuffix(" feature") for role in dict.fromkeys(features)]
                problems.append(f"column '{c}' is both {' and '.join(kinds)}: choose one")
    if not d.features:
        problems.append(
            "no feature columns are selected: choose at least one categorical, numeric or multi-valued feature"
        )
    problems += negatives_problems(config)
    for setting, why in (  # counts of at least 1 (a wrong type is check()'s to say)
        ("max_tokens", "keep at least 1 token per multi-valued column"),
        ("max_vocab", "keep at least 1 value per categorical column (every id shared the unknown-value embedding)"),
        ("min_count", "a value is kept when seen at least this often, so 1 or more"),
    ):
        value = getattr(d, setting)
        if not isinstance(value, bool) and isinstance(value, int) and value < 1:
            problems.append(f"{setting} is {value}: {why}")
    frames = [("", frame)] + ([("test file: ", test_frame)] if test_frame is not None else [])
    for prefix, f in frames:
        if f.columns.duplicated().any():
            dup = sorted(set(f.columns[f.columns.duplicated()]))
            problems.append(f"{prefix}duplicate column names {dup}: give every column a unique name")
            continue
        missing = [c for c in roles if c not in f.columns]
        for c in missing:
            problems.append(
                f"{prefix}column '{c}' ({roles[c][0]}) is not in the data; columns are: "
                f"{', '.join(map(str, f.columns[:20]))}{' ...' if f.shape[1] > 20 else ''}"
            )
        present = {t.name: t for t in config.tasks if t.name in f.columns}
        readable = []  # binary tasks whose labels are fine, compared with each other below
        numbers = []  # the same, of the regression tasks
        for task in present.values():
            found = _label_problems(
                f, task, notes if not prefix else [], prefix, training=not prefix, alone=len(config.tasks) == 1,
                others=frozenset(config.task_names) - {task.name},
                conditional=config.model.kind == "esmm" and task.name in (config.model.funnel or {}),
            )  # fmt: skip
            problems.extend(found)
            # compared row by row: not one missing in some rows (labelled_only)
            readable += [task] if task.type == "binary" and not found and not f[task.name].isna().any() else []
            numbers += [task] if task.type == "regression" and not found else []
        if not prefix:
            positives = _positives(f, readable)  # once, for both comparisons
            problems.extend(_twin_tasks(f, readable, notes, positives))
            notes.extend(_exclusive_tasks(positives, len(f)))
            problems.extend(_regression_twin_problems(f, numbers))
            problems.extend(_funnel_labelled_only(config))
            problems.extend(_labelled_apart(f, [t.name for t in present.values() if not t.labelled_only]))
        dtypes = dict(zip(f.columns, f.dtypes, strict=True))
        features = [c for c in d.numeric if c in dtypes]
        plain = [c for c in features if _numeric_dtype(dtypes[c])]
        for c in features:
            if not _numeric_dtype(dtypes[c]) and (text := text_in_numbers(f[c])):
                problems.append(
                    f"{prefix}column '{c}' is a numeric feature but has text in {text}: "
                    "clean those values or make the column categorical"
                )
        # Numeric columns in blocks (a table may have thousands of them): one conversion per block, not per column.
        width = max(1, BLOCK_VALUES // max(len(f), 1))
        for start in range(0, len(plain) if not prefix else 0, width):
            chunk = plain[start : start + width]
            values = f[chunk].to_numpy(dtype=np.float64, na_value=np.nan).reshape(len(f), len(chunk))
            infinite, empty = np.isinf(values).sum(axis=0), ~np.isfinite(values).any(axis=0)
            huge = (np.abs(np.nan_to_num(values, posinf=0.0, neginf=0.0)) > TOO_LARGE).sum(axis=0)
            for j, c in enumerate(chunk):
                if infinite[j]:
                    notes.append(f"column '{c}': {int(infinite[j]):,} infinite values treated as missing")
                if huge[j]:
                    notes.append(
                        f"column '{c}': {int(huge[j]):,} values beyond ±{TOO_LARGE:g} (too large to standardise: "
                        "placeholders?) treated as missing"
                    )
                if empty[j]:
                    problems.append(f"column '{c}' is a numeric feature with no values at all: drop it")
        for role, c in (("user", d.user_col), ("item", d.item_col)):
            if c and c in f.columns and f[c].isna().any():
                problems.append(
                    f"{prefix}{role} column '{c}' has missing values in {_where(f[c], f[c].isna().to_numpy())}: "
                    f"{_ID_USES[role]}; fill or drop those rows ({how_to('drop', str(c), 'missing')}), or use the "
                    f"column as a plain categorical feature (no {role} column)"
                )
        if d.time_col and d.time_col in f.columns:
            parsed = parse_time(f[d.time_col])
            notes.extend(time_notes(d.time_col, f[d.time_col], prefix))
            empty = f[d.time_col].isna().to_numpy()
            bad = (parsed.isna() & f[d.time_col].notna()).to_numpy()
            if empty.any():
                # A missing time matters only where rows are ordered by time: the time split of the data that is
                # split (a test file is never split). Elsewhere a few rows without a time (KuaiRec's) still train.
                where = _where(f[d.time_col], empty)
                if config.split.method == "time" and not prefix:
                    problems.append(
                        f"timestamp column '{d.time_col}' is empty in {where}: the time split orders the rows by "
                        f"time; drop those rows ({how_to('drop', str(d.time_col), 'missing')}) or fill their times, "
                        "or choose the random or user split"
                    )
                elif prefix:
                    notes.append(
                        f"{prefix}timestamp column '{d.time_col}' is empty in {where}: the test file is not split, so "
                        "they are evaluated as the others"
                    )
                else:
                    notes.append(
                        f"timestamp column '{d.time_col}' is empty in {where}: they train as the others; a time split "
                        "would need their times, and recommendations take a user's latest row among those with a time"
                    )
            if bad.any():
                column = f[d.time_col]
                if pd.api.types.is_datetime64_any_dtype(column) and column.notna().to_numpy()[bad].all():
                    # Real dates, but placeholders (9999-12-31, 1800-01-01) outside the years a log can hold.
                    problems.append(
                        f"{prefix}timestamp column '{d.time_col}' has dates outside the years "
                        f"{PLAUSIBLE_YEARS[0]}-{PLAUSIBLE_YEARS[1]} in {_where(column, bad)}: placeholders such as "
                        "9999-12-31? drop those rows or set them to missing"
                    )
                elif (mixed := _dates_beside_numbers(column, bad)) is not None:
                    problems.append(f"{prefix}timestamp column '{d.time_col}' {mixed}")
                else:
                    problems.append(
                        f"{prefix}timestamp column '{d.time_col}' has values that are not times in "
                        f"{_where(column, bad)}: use numbers (epoch seconds) or dates like 2024-05-01 12:00"
                    )
    problems.extend(_split_problems(config, frame, test_frame))
    breaches = funnel_breaches(config, frame) if not problems else []
    problems.extend(b for b in breaches if FUNNEL_BROKEN in b)
    if problems:
        raise MtlrecError(problems)
    return notes + breaches


# An ESMM funnel is refused when more than this share of the later step's positives lack the earlier step.
FUNNEL_MOST = 0.5
FUNNEL_BROKEN = "is broken by most of its rows"


def funnel_breaches(config: ExperimentConfig, frame: pd.DataFrame) -> list[str]:
    """A sentence per ESMM funnel step that the rows break (a purchase without a click): ESMM models the later step
    as pCTR * pCVR, so such rows pull the earlier task's prediction up. [] for other models or clean funnels. A step
    broken by most of the later step's positives says so (FUNNEL_BROKEN): validate refuses it."""
    if config.model.kind != "esmm" or not isinstance(config.model.funnel, dict):
        return []
    breaches = []
    for child, parent in config.model.funnel.items():
        if child not in frame.columns or parent not in frame.columns:
            continue
        try:
            broken = (binary_labels(frame[child]) == 1) & (binary_labels(frame[parent]) == 0)
        except MtlrecError:
            continue  # not binary labels: validation names that problem
        positives = int((binary_labels(frame[child]) == 1).sum())
        if broken.sum() > FUNNEL_MOST * positives:  # one row per event: no row holds both (REES46's cart, purchase)
            breaches.append(
                f"funnel '{child}' -> '{parent}' {FUNNEL_BROKEN}: {int(broken.sum()):,} of the {positives:,} rows with "
                f"{child} = 1 have {parent} = 0, and ESMM assumes {child} happens only after {parent}. Labels made "
                "from one row per event exclude each other: group the rows to one per user (or session) and item, "
                "each label the max over its rows, or train shared-bottom or MMoE instead"
            )
        elif broken.any():
            rows = np.flatnonzero(broken)
            one = len(rows) == 1
            breaches.append(
                f"funnel '{child}' -> '{parent}': {len(rows):,} row{'' if one else 's'} ({_row_list(rows)}) "
                f"{'has' if one else 'have'} {child} = 1 but {parent} = 0, "
                f"and ESMM assumes {child} happens only after {parent} (it predicts p({child}) as p({parent}) x "
                f"p({child} | {parent})): fix those labels, or train shared-bottom or MMoE instead"
            )
    return breaches


MIN_TRAIN_ROWS = 10
MIN_EVAL_ROWS = 2


def _split_problems(config: ExperimentConfig, frame: pd.DataFrame, test_frame: pd.DataFrame | None) -> list[str]:
    n = len(frame)
    s = config.split
    test_rows = len(test_frame) if test_frame is not None else int(n * s.test_frac)
    train_rows = n if test_frame is not None else n - test_rows
    val_rows = int(train_rows * s.val_frac)
    train_rows -= val_rows
    problems = []
    if test_frame is not None and test_rows < MIN_EVAL_ROWS:  # no fraction of the training file changes it
        problems.append(
            f"test file: it has {test_rows:,} row{'s' if test_rows != 1 else ''}, and at least {MIN_EVAL_ROWS} are "
            "needed to measure anything: add rows to it, or leave it out and split the training file"
        )
        test_rows = MIN_EVAL_ROWS  # said: the training file's own parts are judged below
    if train_rows < MIN_TRAIN_ROWS or val_rows < MIN_EVAL_ROWS or test_rows < MIN_EVAL_ROWS:
        problems.append(
            f"too few rows for the split: {n:,} rows give {max(train_rows, 0):,} train / {val_rows:,} validation / "
            f"{test_rows:,} test rows; at least {MIN_TRAIN_ROWS} / {MIN_EVAL_ROWS} / {MIN_EVAL_ROWS} are needed: "
            "add data or change the test and validation fractions"
        )
    if s.method == "user" and test_frame is None and config.data.user_col in frame.columns:
        users = frame[config.data.user_col].nunique()
        if users < 3:
            problems.append(
                f"the user split needs at least 3 users in '{config.data.user_col}', found {users}: "
                "use the random split"
            )
    return problems


def _dates_beside_numbers(column: pd.Series, bad: np.ndarray) -> str | None:
    """What to say of a time column whose rows that did not read as times are dates written as text beside epoch
    numbers ('2023-11-14 23:16:20' among 1700003293): each reads alone, the column not (it called those dates "not
    times" and advised the very format they are in); None otherwise."""
    rows = column[bad]
    if not len(rows):
        return None
    others = int((~bad & column.notna().to_numpy()).sum())
    advice = "write them all one way (dates, e.g. pd.to_datetime(df[col], unit='s') for the numbers, or epoch seconds)"
    if _time_numbers(column) is None:  # dates, and the rows that are no dates: epoch numbers among them?
        numbers = pd.to_numeric(rows, errors="coerce")
        # A number of a summary row below the dates (13845.7) is no time: not said to be one.
        if numbers.isna().any() or not (numbers >= _EPOCH_SECONDS[0]).all():
            return None
        return f"mixes dates written as text ({others:,} rows) with epoch numbers in {_where(column, bad)}: {advice}"
    if parse_time(rows.astype(str)).isna().any():
        return None
    return f"mixes epoch numbers ({others:,} rows) with dates written as text in {_where(column, bad)}: {advice}"


def parse_time(series: pd.Series) -> pd.Series:
    """A time column as float seconds (numbers stay as they are, unless they mix epoch units: see epoch_units;
    dates and datetimes are converted)."""
    numbers = _time_numbers(series)
    if numbers is not None:
        units = _epoch_unit_powers(numbers.to_numpy())
        return numbers if units is None else numbers / 1000.0**units
    if pd.api.types.is_datetime64_any_dtype(series):
        return _datetime_seconds(series)
    # utc=True: ISO strings with different offsets (summer/winter time) would otherwise raise.
    parsed = pd.to_datetime(series, errors="coerce", format="mixed", utc=True)
    if _day_first(series):  # only the dates written 04.09.2024 or 13/04/2024: pandas read ISO ones day first too
        numbered = series.astype(str).str.match(_NUMBERED_DATE) & series.notna()
        day_first = pd.to_datetime(series[numbered], errors="coerce", format="mixed", utc=True, dayfirst=True)
        parsed = parsed.where(~numbered, day_first.reindex(series.index))
    return _datetime_seconds(parsed)


def _time_numbers(series: pd.Series) -> pd.Series | None:
    """A time column of numbers as floats (text that is mostly numbers too: the others are bad times), else None."""
    if is_numeric(series):
        return series.astype(float)
    if pd.api.types.is_datetime64_any_dtype(series):
        return None
    present = series.dropna()
    if len(present) > 10_000:  # dates as text: none of 2,000 values spread over the column is a number
        spread = present.iloc[np.linspace(0, len(present) - 1, 2_000).astype(np.int64)]
        if pd.to_numeric(spread, errors="coerce").isna().all():
            return None
    numbers = pd.to_numeric(series, errors="coerce")
    # Mostly numbers: epoch seconds, and the few values that are not numbers are bad times (not every row).
    return numbers.astype(float) if 2 * numbers.notna().sum() > series.notna().sum() else None


# Epoch units by power of 1000: a time in seconds from 1973 to 2286 lies in _EPOCH_SECONDS, in milliseconds 1000 times
# further, and so on. Between two ranges (1e10 to 1e11...) a number is no plausible time in either unit.
EPOCH_UNITS = ("seconds", "milliseconds", "microseconds", "nanoseconds")
_EPOCH_SECONDS = (1e8, 1e10)


def readable_times(column: pd.Series) -> pd.Series:
    """A time column as datetimes, for showing it: Unix seconds, or milliseconds, microseconds or nanoseconds in one
    unit (KuaiRand's epoch ms showed as 1649463659510), also written as text; other numbers (day numbers, counters)
    stay as they are. Whole numbers are read as they are (nanoseconds exactly)."""
    numbers = _time_numbers(column)
    # numbers in one unit (mixed ones: parse_time's seconds)
    if numbers is not None and _epoch_unit_powers(numbers.to_numpy()) is None:
        present = numbers.dropna()
        exact = column if pd.api.types.is_integer_dtype(column) else numbers
        for power in range(4):  # seconds, ms, µs, ns: about 1e9 times 1000 ** power
            if len(present) and present.between(1e8 * 1000**power, 1e10 * 1000**power).all():
                return pd.to_datetime(exact, unit=("s", "ms", "us", "ns")[power], errors="coerce")
        return column
    return pd.to_datetime(parse_time(column), unit="s")


def _epoch_unit_powers(values: np.ndarray) -> np.ndarray | None:
    """Per value, the power of 1000 of its epoch unit (0 seconds, 1 ms, 2 µs, 3 ns; NaN for a missing value), when
    the values mix units and each is a plausible time in its own; None otherwise (one unit, or numbers that are not
    all epoch times), so that numbers in one unit stay as they are."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return None
    low, high = finite.min(), finite.max()
    if high < 1000 * low or low < _EPOCH_SECONDS[0] or high >= _EPOCH_SECONDS[1] * 1000.0 ** (len(EPOCH_UNITS) - 1):
        return None  # one unit (the ranges are 1000 times apart), or numbers below any epoch time
    with np.errstate(invalid="ignore", divide="ignore"):
        powers = np.floor((np.log10(values) - np.log10(_EPOCH_SECONDS[0])) / 3)
        scaled = values / 1000.0**powers
    inside = (scaled >= _EPOCH_SECONDS[0]) & (scaled < _EPOCH_SECONDS[1])
    return powers if bool(np.all(inside | ~np.isfinite(values))) else None


def epoch_units(series: pd.Series) -> dict[str, int] | None:
    """Rows per epoch unit ({"seconds": 1500, "milliseconds": 1500}) of a time column of numbers that mix units (an
    export that changed unit): parse_time reads each number by its magnitude (about 1e9 seconds, 1e12 ms, 1e15 µs,
    1e18 ns) and converts them all to seconds. None for one unit, or other values."""
    numbers = _time_numbers(series)
    powers = None if numbers is None else _epoch_unit_powers(numbers.to_numpy())
    if powers is None:
        return None
    found, counts = np.unique(powers[np.isfinite(powers)], return_counts=True)
    return {EPOCH_UNITS[int(p)]: int(c) for p, c in zip(found, counts, strict=True)}


_EXCEL_DATE_WORDS = {"date", "datetime", "day", "dt", "datum", "fecha"}  # not seconds since midnight (21,600-79,200)
SMALL_TIMES = 1e6  # epoch seconds below this are 1970's first 12 days: a time column of such numbers is an order


_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2}|UTC|GMT)$", re.IGNORECASE)


ZONE_ROWS = 100_000  # rows of a text time column looked at for offsets (two regular expressions per value)


def _zones_mixed(series: pd.Series) -> tuple[int, int, str, int] | None:
    """(rows without, rows with) a UTC offset, an example with one and the rows looked at (the first ZONE_ROWS),
    for a column of date text where both occur (an export that wrote local times for some rows and offsets for
    others: parse_time reads those without as UTC, hours off, without a word: an audit); else None."""
    if not (pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype)):
        return None
    text = series.dropna().iloc[:ZONE_ROWS].astype(str).str.strip()
    looked = len(text)
    text = text[text.str.contains(r"\d{1,2}:\d{2}", regex=True)]  # a time of day: a date alone has no zone to give
    if text.empty:
        return None
    zoned = text.str.contains(_OFFSET, regex=True).to_numpy()
    within = int(zoned.sum())
    return (len(text) - within, within, str(text[zoned].iloc[0]), looked) if 0 < within < len(text) else None


def time_notes(column: str, series: pd.Series, prefix: str = "") -> list[str]:
    """Notes on how a timestamp column was read where the reading is a choice: epoch numbers in several units
    (converted to seconds by magnitude), or dates whose day and month could be either way round (month first)."""
    notes = []
    units = epoch_units(series)
    if units is not None:
        counts = ", ".join(f"{count:,} in {unit}" for unit, count in units.items())
        notes.append(
            f"{prefix}timestamp column '{column}' mixes epoch units ({counts}): each number was read in the unit "
            "its magnitude says and converted to seconds, for the time split, the most recent rows and the "
            "predictions' times; write them in one unit to be sure"
        )
    if _numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        values = pd.to_numeric(series, errors="coerce").dropna()
        if len(values) and values.abs().max() < SMALL_TIMES:
            # Goodreads' rating 0-5 chosen as the time trained a time split on ratings read as 1970's first seconds.
            excel = (
                # Days since 1899-12-30 (1954 to 2119), as Excel stores dates: 44927.5 is 2023-01-01 12:00.
                "; they look like Excel's serial dates (days since 1899-12-30): to read them as dates, "
                f"pd.to_datetime(df[{str(column)!r}], unit='D', origin='1899-12-30')"
                if values.min() >= 20_000 and values.max() <= 80_000 and set(_parts(str(column))) & _EXCEL_DATE_WORDS
                else ""
            )
            notes.append(
                f"{prefix}timestamp column '{column}' holds small numbers ({show_value(values.min())} to "
                f"{show_value(values.max())}, {values.nunique():,} distinct), not epoch times (those would be the "
                "first days of 1970): the time split and the most recent rows follow their order; if it is no time "
                "or order of the rows, choose another timestamp column, or none (on Data: Timestamp column; CLI: "
                f"--time-col C or --time-col none){excel}"
            )
    if (zones := _zones_mixed(series)) is not None:
        without, within, example, looked = zones
        rows = f" of the first {looked:,}" if looked == ZONE_ROWS else ""
        notes.append(
            f"{prefix}timestamp column '{column}' mixes times with a UTC offset ({within:,} row"
            f"{'s' if within != 1 else ''}{rows}, e.g. {show_value(example)}) and times without one ({without:,} "
            f"row{'s' if without != 1 else ''}): those without were read as UTC, which moves them by the offset they "
            "were written in; write every time with its offset (or every one in UTC) to be sure"
        )
    ambiguous = _ambiguous_date(series)
    if ambiguous is not None:
        value, month_first = ambiguous
        dots = _day_first(series)
        how = "read day first, as dates with dots are written" if dots else "read month first, as written in the US"
        other = "months" if dots else "days"
        notes.append(
            f"{prefix}timestamp column '{column}' holds dates whose day and month could be either way round (none of "
            f"their first two numbers is over 12): {how} ({show_value(value)} is {month_first}); if the "
            f"{other} come first, write the dates year first (ISO, 2024-05-01) so that they read one way only"
        )
    return notes


_NUMBERED_DATE = re.compile(r"^\s*(?P<a>\d{1,2})(?P<sep>[-/.])(?P<b>\d{1,2})[-/.]\d{2,4}")


def _day_first(series: pd.Series) -> bool:
    """Whether dates written 03/04/2024 are day first: some first field is over 12 and no second one is.

    Parsed value by value, 03/04/2024 would be 4 March and 13/04/2024 13 April in the same column.
    """
    # The pattern reads at most a value's first 10 characters: matched on the distinct beginnings, not every value
    # (a million timestamps hold a few hundred distinct days).
    fields = _date_fields(series)
    if not len(fields) or (fields[1] > 12).any():
        return False
    # 04.09.2024 with dots is written day first (Germany, Russia...): when no number settles it, dots do
    return bool((fields[0] > 12).any() or (fields["sep"] == ".").all())


def _date_fields(series: pd.Series) -> pd.DataFrame:
    """The first two numbers of dates written 03/04/2024 (columns 0 and 1, a row per distinct start, index on
    `starts`, the distinct beginnings); none for other values."""
    if is_numeric(series) or pd.api.types.is_datetime64_any_dtype(series):
        return pd.DataFrame(columns=[0, 1, "start"])
    starts = pd.Series(series.dropna().astype(str).str.lstrip().str.slice(0, 10).unique(), dtype=object)
    found = starts.str.extract(_NUMBERED_DATE).dropna()
    fields = found[["a", "b"]].astype(int).set_axis([0, 1], axis=1)
    return fields.assign(sep=found["sep"], start=starts[fields.index])


def _ambiguous_date(series: pd.Series) -> tuple[str, str] | None:
    """For a column of dates written 03/04/2024 whose every first and second number is at most 12 (so either could
    be the day), one date whose reading depends on it and how parse_time reads it, month first ('10/09/2024', '9
    October 2024'); None when the column has no such dates, a number over 12 settles the order, or day and month
    are the same in every date."""
    fields = _date_fields(series)
    if not len(fields) or (fields[0] > 12).any() or (fields[1] > 12).any() or (fields[0] == fields[1]).all():
        return None
    first = fields[fields[0] != fields[1]].iloc[0]
    value = series.dropna().astype(str).str.lstrip()
    value = value[value.str.startswith(first["start"])].iloc[0]
    read = pd.to_datetime(value, format="mixed", dayfirst=_day_first(series), errors="coerce")
    if pd.isna(read):  # '03/04/2024 approx': validation names the values that are no times
        return None
    return value, f"{read.day} {read.strftime('%B %Y')}"


# Dates outside these years are taken as misread values (e.g. "1,5" parsed as 5 January of year 1), not times.
PLAUSIBLE_YEARS = (1900, 2200)


def _datetime_seconds(series: pd.Series) -> pd.Series:
    if getattr(series.dt, "tz", None) is not None:
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    plausible = series.dt.year.between(*PLAUSIBLE_YEARS)
    seconds = series.astype("datetime64[s]").astype("int64").astype(float)  # seconds: no ns overflow
    return seconds.where(series.notna() & plausible)
