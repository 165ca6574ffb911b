"""The web-chat widget: /widget.js, the shopper socket /ws/widget/, the demo shop."""
