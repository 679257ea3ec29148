"""Corpus readers: every format, and every kind of bad input reported, not fatal."""

from __future__ import annotations

import codecs
import gzip
import json
from datetime import datetime

import pytest
from conftest import SHARED, needs_shared, write_jsonl

from searchidx.article import Article, Reject, Warn
from searchidx.corpus import count_records, decode_text_file, read_corpus, read_path
from searchidx.dates import parse_date

SEED = SHARED / "seed" / "baogialai-khoi-thi-dua-2024-07-31.txt"


def articles(records) -> list[Article]:
    return [r for r in records if isinstance(r, Article)]


def test_jsonl_with_aliases(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [
        {"id": "1", "title": "Bão số 3", "content": "Mưa lớn ở Hà Nội.", "summary": "Tin bão.",
         "published": "2024-09-08", "category": "Xã hội", "source": "baomau.vn", "tags": "bão, thiên tai"},
        {"title": "Không có id", "text": "Nội dung.", "url": "https://baomau.vn/x.html", "lead": "Dẫn."},
    ])  # fmt: skip
    first, second = articles(read_path(path))
    assert first.body == "Mưa lớn ở Hà Nội." and first.sapo == "Tin bão."
    assert first.date == datetime(2024, 9, 8) and first.tags == ("bão", "thiên tai")
    assert second.id and second.sapo == "Dẫn." and second.url.endswith("x.html")


def test_id_is_derived_from_url_or_content(tmp_path):
    path = write_jsonl(tmp_path / "r.jsonl", [
        {"title": "A", "url": "https://x/1"}, {"title": "B", "url": "https://x/1"}, {"title": "A", "body": "b"},
    ])  # fmt: skip
    one, again, plain = articles(read_path(path))
    assert one.id == again.id != plain.id


def test_gzipped_jsonl(tmp_path):
    path = tmp_path / "a.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(json.dumps({"id": "g", "title": "Nén gzip", "body": "Thân bài."}, ensure_ascii=False) + "\n")
    assert [a.id for a in articles(read_path(path))] == ["g"]
    assert count_records([path]) == 1


def test_json_array_is_streamed_with_line_numbers(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(
        '[\n {"id": "1", "title": "Một"},\n {"id": "2", "body": ""},\n {"id": "3", "title": "Ba"}\n]', encoding="utf-8"
    )
    records = list(read_path(path))
    assert [a.id for a in articles(records)] == ["1", "3"]
    (reject,) = [r for r in records if isinstance(r, Reject)]
    assert reject.line == 3 and "neither title nor body" in reject.reason


def test_json_array_streams_across_chunks(tmp_path):
    path = tmp_path / "big.json"
    path.write_text(
        json.dumps([{"id": str(i), "title": f"Bài {i} " + "chữ " * 50} for i in range(300)], ensure_ascii=False)
    )
    from searchidx.corpus import read_json_array

    assert len(articles(read_json_array(path, chunk_size=1000))) == 300


def test_csv_with_header(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('id,title,body,date\n1,"Giá vàng, tăng",Thân bài,31/07/2024\n2,,,\n', encoding="utf-8")
    records = list(read_path(path))
    assert articles(records)[0].title == "Giá vàng, tăng"
    assert [r.line for r in records if isinstance(r, Reject)] == [3]


def test_malformed_line_is_rejected_with_file_line_and_reason_and_the_rest_is_read(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(
        b'{"id": "1", "title": "T\xc3\xb4t"}\n'
        b'{"id": "2", "title": oops}\n'
        b'{"id": "3", "title": "Bad bytes \xff\xfe"}\n'
        b'{"id": "4"}\n'
        b"[1, 2]\n"
        b'{"id": "6", "title": "Ng\xc3\xa0y sai", "date": "31/02/2024"}\n'
        b'{"id": "7", "title": "Cu\xe1\xbb\x91i"}\n'
    )
    records = list(read_path(path))
    assert [a.id for a in articles(records)] == ["1", "6", "7"]
    rejects = {r.line: r.reason for r in records if isinstance(r, Reject)}
    assert set(rejects) == {2, 3, 4, 5}
    assert "malformed JSON" in rejects[2] and "UTF-8" in rejects[3]
    assert "neither title nor body" in rejects[4] and "JSON object" in rejects[5]
    (warning,) = [r for r in records if isinstance(r, Warn)]
    assert warning.line == 6 and "date" in warning.reason
    assert str(warning).startswith(f"{path}:6:")
    assert articles(records)[1].date is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-07-31", datetime(2024, 7, 31)),
        ("2024-07-31T14:30:00", datetime(2024, 7, 31, 14, 30)),
        ("2024-07-31T07:30:00Z", datetime(2024, 7, 31, 14, 30)),
        ("2024-07-31T14:30:00+07:00", datetime(2024, 7, 31, 14, 30)),
        ("31/07/2024", datetime(2024, 7, 31)),
        ("31-7-2024", datetime(2024, 7, 31)),
        ("31/07/2024 14:30", datetime(2024, 7, 31, 14, 30)),
        ("31/07/2024 14:30 (GMT+7)", datetime(2024, 7, 31, 14, 30)),
        ("Thứ tư, 31/7/2024, 14:30 (GMT+7)", datetime(2024, 7, 31, 14, 30)),
        ("14:30 31/07/2024", datetime(2024, 7, 31, 14, 30)),
    ],
)
def test_dates(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["hôm qua", "31/02/2024", "2024-13-01", ""])
def test_unparsable_dates_raise(text):
    with pytest.raises(ValueError):
        parse_date(text)


def test_seed_page_text_becomes_one_clean_article():
    needs_shared(SEED)
    (article,) = articles(read_path(SEED))
    assert article.title.startswith("Khối thi đua các tổ chức Chính trị-Xã hội-Nghề nghiệp tỉnh Gia Lai")
    assert article.sapo.startswith("Chiều 31-7, tại TP. Pleiku")  # dateline "(GLO)-" removed
    assert article.date == datetime(2024, 7, 31) and article.source == "baogialai.com.vn"
    text = article.sapo + article.body
    assert "Google News" not in text and "Có thể bạn quan tâm" not in text
    assert "Ảnh: Lam Nguyên" not in text  # the photo caption, twice on the page
    assert "tái định cư" not in text  # the related-articles block
    assert text.count("3.343 suất quà") == 1


def utf16(text: str, bom: bytes = codecs.BOM_UTF16_LE, encoding: str = "utf-16-le") -> bytes:
    return bom + text.replace("\n", "\r\n").encode(encoding)


def test_a_vntc_style_tree_indexes_with_categories_and_sources(tmp_path):
    """UTF-16 with BOM and CRLF, diacritic-free folder names, source in the file name,
    one file run together on a single line, one binary file."""
    sport = tmp_path / "Train_Full" / "The thao"
    law = tmp_path / "Train_Full" / "Phap luat"
    sport.mkdir(parents=True)
    law.mkdir(parents=True)
    (sport / "TT_ VNE_ (1).txt").write_bytes(
        utf16("Roddick gặp đối thủ khó\nHạt giống số 1 sẽ chạm trán tay vợt Chile.\nTrận đấu diễn ra tối nay.\n")
    )
    (sport / "TT_NLD_ (2).txt").write_bytes(
        utf16(
            "Bóng đá Việt Nam (NLĐ)- Đội tuyển tập trung chuẩn bị vòng loại. Các cầu thủ đã có mặt.",
            codecs.BOM_UTF16_BE,
            "utf-16-be",
        )
    )
    (law / "PL_TN_ (3).txt").write_bytes(codecs.BOM_UTF8 + "Khởi tố vụ án\nNội dung vụ án.\n".encode())
    (law / "PL_TT_ (4).txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\xff")
    records = list(read_path(tmp_path / "Train_Full"))
    by_source = {a.source: a for a in articles(records)}
    assert set(by_source) == {"vnexpress.net", "nld.com.vn", "thanhnien.vn"}
    roddick = by_source["vnexpress.net"]
    assert roddick.category == "Thể thao" and roddick.title == "Roddick gặp đối thủ khó"
    assert "\r" not in roddick.body and roddick.sapo.startswith("Hạt giống")
    run_together = by_source["nld.com.vn"]
    assert run_together.title == "Bóng đá Việt Nam" and "Đội tuyển tập trung" in run_together.sapo + run_together.body
    assert by_source["thanhnien.vn"].category == "Pháp luật"
    assert roddick.id == "The thao/TT_ VNE_ (1)"  # the path: stable, unique within the tree
    (reject,) = [r for r in records if isinstance(r, Reject)]
    assert reject.path.endswith("PL_TT_ (4).txt") and "text" in reject.reason


def test_category_names_can_be_mapped(tmp_path):
    from searchidx.corpus import ReadOptions

    folder = tmp_path / "corpus" / "bong-da"
    folder.mkdir(parents=True)
    (folder / "a.txt").write_text("Tiêu đề\nThân bài.", encoding="utf-8")
    (article,) = articles(read_corpus([tmp_path / "corpus"], ReadOptions({"bong-da": "Bóng đá"})))
    assert article.category == "Bóng đá"


def test_run_together_text_without_dateline_takes_its_first_sentence(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text(
        "Giá xăng giảm mạnh từ chiều nay. Liên bộ Công Thương - Tài chính vừa điều chỉnh giá.", encoding="utf-8"
    )
    (article,) = articles(read_path(path))
    assert article.title == "Giá xăng giảm mạnh từ chiều nay"


def test_decode_rejects_non_text():
    with pytest.raises(ValueError):
        decode_text_file(b"\xff\xd8\xff\xe0 not utf-8 \xc3")


def test_missing_path_and_unknown_types_are_rejected(tmp_path):
    (tmp_path / "data.xml").write_text("<x/>")
    records = list(read_corpus([tmp_path / "nope.jsonl", tmp_path / "data.xml"]))
    assert all(isinstance(r, Reject) for r in records) and len(records) == 2


def test_the_same_text_filed_under_two_topics_is_two_articles(tmp_path):
    for topic in ("Chinh tri Xa hoi", "Phap luat"):
        (tmp_path / topic).mkdir()
        (tmp_path / topic / "XH_NLD_ (1).txt").write_text("Cùng một bài\nNội dung.", encoding="utf-8")
    found = articles(read_path(tmp_path))
    assert sorted(a.category for a in found) == ["Chính trị - Xã hội", "Pháp luật"]
    assert len({a.id for a in found}) == 2


def test_run_together_text_with_no_sentence_break_gets_a_short_title(tmp_path):
    path = tmp_path / "x.txt"
    text = "Quảng cáo gặp xui vì bóng đá Quảng bá thương hiệu bằng tài trợ " + "bóng đá rẻ nhưng lắm rủi ro " * 20
    path.write_text(text, encoding="utf-8")
    (article,) = articles(read_path(path))
    assert article.title.endswith("…") and len(article.title) <= 151
    assert text.strip() in (article.sapo + "\n" + article.body).strip() or text.strip() == article.body.strip()
