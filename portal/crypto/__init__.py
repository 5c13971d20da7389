"""Cryptography of govcloud, without Flask: two suites (international and 商用密码 SM2/SM3/SM4),
a key ring with key ids (keyring), sealed database fields (fields), masking of personal data
(masking). CRYPTO_SUITE selects the suite; international stays the default."""
