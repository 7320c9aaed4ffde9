"""Grants: a clinician's access to one patient's data, asked for by e-mail, given by the holder."""
