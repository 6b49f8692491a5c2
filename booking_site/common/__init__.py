"""What the patient journey (booking) and the staff preview (availability) share: display
formatting and searching the practices. The two apps import each other's code only through
here (an import-linter contract says so)."""
