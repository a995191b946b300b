// The source of refkv_test_pch, the target whose precompiled header (tests/CMakeLists.txt)
// every test executable reuses.
