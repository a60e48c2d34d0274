"""Small model files shared by the tests (TOML text written into a temporary directory)."""

#: a width-4 Cos-net in d = 2
FIELD_MODEL = """
kind = "neural_field"
architecture = "cosnet"
width = 4
dim = 2
sigma_a = 1.0
sigma_b = 1.0
"""

#: V = x^2/2 + x^4 on a 16-slice periodic lattice (beta = 4)
PATH_MODEL = """
kind = "path_integral"
network = "fourier"
potential = [0.0, 0.0, 0.5, 0.0, 1.0]
beta = 4.0
slices = 16
boundary = "periodic"
"""

#: the same theory on 8 slices, for tests that run the command several times
SHORT_PATH_MODEL = PATH_MODEL.replace("slices = 16", "slices = 8")
