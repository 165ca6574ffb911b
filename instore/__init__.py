"""In-store QR codes: stores, placements, QR rendering, print sheets and the scan landing page."""
