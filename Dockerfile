# pardot-mock as a container image: the static binary and the default configuration, nothing
# else (no shell, no libc files). TEST ONLY: the mock accepts public test credentials.
#
#   cargo xtask dist                      # builds target/dist/pardot-mock-x86_64-linux/
#   docker build -t pardot-mock .
#   docker run --rm -p 8717:8717 pardot-mock
#
# `cargo xtask dist-check` assembles this image's root from the COPY and ENV lines below, runs
# its ENTRYPOINT and CMD in that root (chroot) in a network namespace of its own, polls its
# HEALTHCHECK, and logs in from another namespace by the name `pardot-mock`.
FROM scratch
COPY target/dist/pardot-mock-x86_64-linux/pardot-mock /pardot-mock
COPY target/dist/pardot-mock-x86_64-linux/LICENSE-MIT target/dist/pardot-mock-x86_64-linux/LICENSE-APACHE target/dist/pardot-mock-x86_64-linux/THIRD-PARTY-LICENSES.md target/dist/pardot-mock-x86_64-linux/GLIBC-NOTICE.md /licenses/
COPY crates/pardot-mock/fixtures/mock.toml /etc/pardot-mock/mock.toml
COPY crates/pardot-mock/fixtures/keys/ /etc/pardot-mock/keys/
ENV PARDOT_MOCK_CONFIG=/etc/pardot-mock/mock.toml PARDOT_MOCK_ADDR=0.0.0.0:8717
EXPOSE 8717
HEALTHCHECK --interval=5s --timeout=3s --start-period=2s CMD ["/pardot-mock", "health"]
ENTRYPOINT ["/pardot-mock"]
CMD ["serve"]
