#!/usr/bin/env python3
"""Regenerates the seed corpus in tests/fuzz/corpus/<target>/ (run from anywhere).

Seeds: the gateway task answer from the shared reference, official Video objects
and list answers (openai-videos.openapi.yaml shapes), proxy error pages, the
example manifests and configs. The provider_* targets read the first byte as the
HTTP status selector (see fuzz_targets.cpp), so their seeds start with b'\\x00' (200).
"""
import json, pathlib, re, shutil

here = pathlib.Path(__file__).resolve().parent
root = here.parent.parent
corpus = here / "corpus"

gateway = ""
shared = pathlib.Path("/work/shared/seed-gateway-query-task.txt")
if shared.exists():
    text = shared.read_text()
    start = text.index('{\n    "id": "sora-2:task_')
    depth = 0
    for i, c in enumerate(text[start:], start):
        depth += c == "{"
        depth -= c == "}"
        if depth == 0:
            gateway = text[start:i + 1]
            break
    json.loads(gateway)

def video(status, **extra):
    v = {"id": "video_68d7512d07848190b3e45da0ecbebcde", "object": "video", "model": "sora-2",
         "status": status, "progress": {"queued": 0, "in_progress": 37}.get(status, 100),
         "created_at": 1712697600, "completed_at": None, "expires_at": None,
         "prompt": "A calico cat playing a piano on stage", "size": "720x1280", "seconds": "8",
         "remixed_from_video_id": None, "error": None}
    v.update(extra)
    return v

answers = [
    video("queued"), video("in_progress"),
    video("completed", completed_at=1712697700, expires_at=1712784100),
    video("failed", progress=0, error={"code": "moderation_blocked",
                                       "message": "Your request was blocked by our moderation system."}),
    {"id": "sora-2:task_01k6x", "status": "completed", "status_update_time": 1759763651908,
     "video_url": "https://filesystem.site/vg-assets/src.mp4?sig=abc",
     "thumbnail_url": "https://filesystem.site/thumbnail.webp",
     "detail": {"status": "completed", "url": "https://filesystem.site/other.mp4",
                "draft_info": {"downloadable_url": "https://videos.openai.com/src.mp4"}}},
    {"status": "processing", "progress": "45%"},
    {"status": "failed", "detail": {"pending_info": {"failure_reason": "content policy"}}},
    {"error": {"message": "Invalid API key", "type": "invalid_request_error", "code": "invalid_api_key"}},
]
lists = [
    {"object": "list", "data": [video("completed"), video("queued", id="video_2")],
     "first_id": "video_68d7512d07848190b3e45da0ecbebcde", "last_id": "video_2", "has_more": True},
    {"object": "list", "data": [], "has_more": False},
]
contents = [{"url": "https://cdn.test/files/video_1.mp4"}, {"video_url": "http://c.test/2.mp4"},
            {"metadata": {"url": "http://c.test/3.mp4"}}]
proxy = [b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n",
         b"upstream connect error or disconnect/reset before headers", b"", b"null", b"[]", b"{}"]

def dump(obj):
    return json.dumps(obj, ensure_ascii=False).encode()

bodies = [dump(a) for a in answers] + ([gateway.encode()] if gateway else []) + proxy

def write(target, items):
    d = corpus / target
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    for i, data in enumerate(items):
        (d / f"seed-{i:02d}").write_bytes(data)

write("answer", bodies + [dump(l) for l in lists] + [dump(c) for c in contents])
write("provider_query", [b"\x00" + b for b in bodies] + [b"\x0c" + bodies[-7], b"\x0d" + proxy[0]])
write("provider_create", [b"\x00" + b for b in bodies])
write("provider_list", [b"\x00" + dump(l) for l in lists] + [b"\x00" + p for p in proxy])
write("provider_content", [dump(c) for c in contents] + proxy)
# The gateways' unified format (docs/wire-formats.md): create and query answers.
unified_creates = [
    {"id": "sora-2:task_01k6x15vhrff09dkkqjrzwhm60", "status": "pending",
     "status_update_time": 1759763427208},
    {"id": "jimeng:7391ad0e-8c1b-4a53-9b1e-0e0a3bd5d3a1", "status": "pending"},
    {"id": "video_5c6a605a-1d3e", "object": "video", "model": "sora-2", "status": "queued",
     "progress": 0, "created_at": 1761622232, "seconds": "10", "size": "1280x720"},
]
unified_queries = [
    {"id": "sora-2:task_01k6x", "object": "video", "model": "sora-2", "status": "pending",
     "progress": "0", "created_at": 1762010621, "size": "large",
     "status_update_time": 1762010621323, "detail": {"input": {"aspect_ratio": "9:16"}}},
    {"id": "7391ad0e", "status": "success", "video_url": "https://cdn.test/v.mp4",
     "enhanced_prompt": "a cat"},
    {"id": "sora-2:task_01k6x", "status": "completed", "detail": {"url": "https://c.test/d.mp4"}},
    {"id": "sora-2:task_01k6x", "status": "completed",
     "detail": {"draft_info": {"downloadable_url": "https://videos.openai.com/src.mp4"}}},
    {"id": "sora-2:task_01k6x", "status": "completed"},
    {"id": "sora-2:task_01k6x", "status": "cancelled", "created_at": 1760341326742},
]
unified_bodies = [dump(a) for a in unified_queries] + bodies
write("unified_create", [b"\x00" + dump(a) for a in unified_creates] + [b"\x00" + b for b in bodies]
      + [b"\x0c" + bodies[-7], b"\x0d" + proxy[0]])
write("unified_query", [b"\x00" + b for b in unified_bodies] + [b"\x0c" + bodies[-7]])
manifests = sorted((root / "jobs" / "examples").rglob("*.yaml"))
write("manifest", [m.read_bytes() for m in manifests])
configs = sorted((root / "config").glob("*.toml"))
write("config", [c.read_bytes() for c in configs] + [b"[limits]\nmax_in_flight = 0\n[output]\nlayout = \"../{id}.mp4\"\n"])
