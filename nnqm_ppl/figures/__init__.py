"""Figures of the tasks' results, apart from the code that measures them (report layer).

One module per task; each function takes plain results (estimates, exact curves) and returns a
matplotlib figure, importing matplotlib only when called, so that loading a job never pays for it.
"""
