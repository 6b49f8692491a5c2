"""The patient journey's views, by concern: journey (where, when), results (choose a time),
booking (details, check, book) and appointments."""
