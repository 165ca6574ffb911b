"""Widget pages and script: /widget.js, /widget/demo/."""

urlpatterns: list = []
