"""A GP practice system as far as the site can tell: the provider side of GP Connect (Patient
Facing) Appointment Management, per shared/gpconnect/CONFORMANCE.md.

Nothing here imports from the site's other apps, and nothing there imports from here: the site
reaches the sandbox only over HTTP, exactly as it would reach EMIS or TPP.
"""
