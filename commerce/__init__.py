"""Products, carts and orders, fed by the shop's events (the events API and the widget)."""
