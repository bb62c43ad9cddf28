"""The trust boundary between grader and sandbox: framed messages (``channel``), plain data
(``wire``) and the schema of every reply (``replies``). Nothing here imports an exercise."""
