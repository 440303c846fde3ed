"""Article HTML as it may be stored: what the editor makes and nothing that runs.

nh3 (ammonia) parses the HTML like a browser and keeps only the tags and attributes listed
here: no scripts, no event handlers, no styles, links only to http(s) and mail, and pictures
only from Parta's own article files, so an article cannot load anything from elsewhere.
"""
import html
import re

import nh3

TAGS = {
    "p", "br", "h2", "h3", "strong", "b", "em", "i", "u", "s", "ol", "ul", "li", "a", "img",
    "blockquote",
}
ATTRIBUTES = {"a": {"href"}, "img": {"src", "alt"}}
URL_SCHEMES = {"http", "https", "mailto"}
OWN_PICTURE = re.compile(r"^/articles/files/(\d+)$")
TAG = re.compile(r"<[^>]*>")
BLOCK_END = re.compile(r"</(?:p|h2|h3|li|blockquote)>|<br>")
SPACES = re.compile(r"[ \t\u00a0]+")


def picture_ids(dirty):
    """The article files an editor's HTML refers to (before sanitizing, to decide which stay)."""
    return {int(m) for m in re.findall(r"/articles/files/(\d+)", dirty or "")}


def sanitize(dirty, allowed_pictures=None):
    """Safe HTML from what an editor sent. ``allowed_pictures``: the ids of article files
    this article may show (None: any of Parta's article files)."""

    def keep(tag, attribute, value):
        if tag == "img" and attribute == "src":
            match = OWN_PICTURE.match(value)
            if match is None or (allowed_pictures is not None and int(match.group(1)) not in allowed_pictures):
                return None
        return value

    clean = nh3.clean(
        dirty or "",
        tags=TAGS,
        attributes=ATTRIBUTES,
        attribute_filter=keep,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow ugc",
    )
    # Quill's semantic HTML writes every space as &nbsp;, which stops lines wrapping on phones.
    clean = clean.replace("&nbsp;", " ")
    return re.sub(r"<img(?![^>]*\ssrc=)[^>]*>", "", clean)


IMG = re.compile(r"<img\s[^>]*>")
IMG_SRC = re.compile(r'\ssrc="/articles/files/(\d+)"')
IMG_ALT = re.compile(r'\salt="([^"]*)"')


def display_pictures(clean, files, display_url):
    """Sanitized HTML as readers get it: each of the article's pictures at the size it is
    shown (``display_url(file)``), with its width and height so the text does not jump
    as it arrives, and loaded lazily. ``files``: the article's files by id."""

    def shown(match):
        tag = match.group(0)
        src = IMG_SRC.search(tag)
        picture = files.get(int(src.group(1))) if src else None
        if picture is None:
            return tag
        alt = IMG_ALT.search(tag)
        size = f' width="{picture.width}" height="{picture.height}"' if picture.width and picture.height else ""
        return (f'<img src="{html.escape(display_url(picture))}" alt="{alt.group(1) if alt else ""}"'
                f'{size} loading="lazy" decoding="async">')

    return IMG.sub(shown, clean)


def text_of(clean):
    """The plain text of sanitized HTML: for search and the previews in the list."""
    text = html.unescape(TAG.sub(" ", BLOCK_END.sub("\n", clean)))
    lines = (SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)
