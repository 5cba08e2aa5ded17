"""A reply read aloud is its words: markdown is not spoken as symbols, code and formulas are named, not read."""

from __future__ import annotations

import pytest

from desktop_assistant.core.speakable import speakable

REPLY = """## Setting up

Here is **how** to do it with `pip` and *care*: see [the docs](https://docs.python.org/3/) or https://www.example.com/a/b?x=1.

```python
import os
print(os.getcwd())
```

| Name | Price |
|------|------:|
| tea | 2 |

- first item
- [x] done item
1. numbered

> a quote

$$E = mc^2$$
Inline $x^2$ costs $5 and $6.

snake_case_name stays, 2*3*4 stays, ~~old~~ new.

---
![a chart](http://x/y.png)
<b>bold html</b>
"""

SPOKEN = """Setting up.

Here is how to do it with pip and care: see the docs or a link to example.com.

Here the reply shows some Python code.

Name, Price.

tea, 2.

first item
done item
1. numbered

a quote

Here the reply shows a formula.

Inline x^2 costs $5 and $6.

snake_case_name stays, 2*3*4 stays, old new.

a chart
bold html"""


def test_a_reply_in_markdown_is_read_as_words() -> None:
    assert speakable(REPLY) == SPOKEN


@pytest.mark.parametrize(("reply", "spoken"), [
    ("```\nrm -rf /\n```", "Here the reply shows some code."),
    ("~~~sh\nls\n~~~\nDone.", "Here the reply shows some shell code.\n\nDone."),
    ("```elixir\nIO.puts 1\n```", "Here the reply shows some elixir code."),
    ("```py\nunclosed = True\n", "Here the reply shows some Python code."),  # a reply cut off inside its code
    ("Use <https://example.org/x>.", "Use a link to example.org."),
    ("Run:\r\n```sh\r\nls\r\n```\r\nThen **done**.", "Run:\n\nHere the reply shows some shell code.\n\nThen done."),
    ("Plain words.", "Plain words."),
    ("", ""),
])
def test_code_and_links_are_named_not_read(reply: str, spoken: str) -> None:
    assert speakable(reply) == spoken


def test_what_is_paid_for_is_shorter_than_the_markdown() -> None:
    code = "```python\n" + "x = 1\n" * 500 + "```"
    assert len(speakable(f"Here it is.\n\n{code}")) < 60


@pytest.mark.parametrize(("reply", "spoken"), [
    ("Install it:\n\n    ```bash\n    pip install foo\n    ```\n\nDone.",  # a fence indented in a list
     "Install it:\n\nHere the reply shows some shell code.\n\nDone."),
    ("x**2 + y**2, 2**3**4 and snake__case__name", "x**2 + y**2, 2**3**4 and snake__case__name"),  # in words
    ("if x<y and y>z, a List<String>", "if x<y and y>z, a List<String>"),  # not HTML
    ("Use `<div>` and `a**b` and `c**d`.", "Use <div> and a**b and c**d."),  # code is read as written
    ("## Learn C#", "Learn C#."),
    ("### Title ###", "Title."),
    ("**bold** and __also__", "bold and also"),
])
def test_what_looks_like_markdown_but_is_not_is_read_as_written(reply: str, spoken: str) -> None:
    assert speakable(reply) == spoken

