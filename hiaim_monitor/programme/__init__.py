"""A programme: the planned sessions of each enrolled participant, what happened at each
(attendance, exertion, dose, adverse events), and the trial metrics computed from them."""
