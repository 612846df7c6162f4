{
  "targets": [
    {
      "target_name": "tuntap",
      "sources": ["native/tuntap.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
