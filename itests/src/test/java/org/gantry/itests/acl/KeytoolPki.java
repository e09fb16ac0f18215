package org.gantry.itests.acl;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * A site PKI made inside the test framework with the JDK's {@code keytool} (no BouncyCastle bundle
 * there): a CA ({@code ca.pem}) and, per identity, a PKCS#12 file holding its EC key and the
 * certificate the CA signed (subject CN = the name, SAN 127.0.0.1 and localhost).
 */
final class KeytoolPki {

  private static final long TIMEOUT_SECONDS = 60;

  private final Path dir;
  private final String password;
  private final Path keytool;

  private KeytoolPki(Path dir, String password, Path keytool) {
    this.dir = dir;
    this.password = password;
    this.keytool = keytool;
  }

  static KeytoolPki create(Path dir) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    KeytoolPki pki = new KeytoolPki(dir, Long.toHexString(System.nanoTime()), keytool);
    pki.run(
        "-genkeypair",
        "-alias",
        "ca",
        "-dname",
        "CN=Gantry ACL test CA",
        "-keyalg",
        "EC",
        "-groupname",
        "secp256r1",
        "-ext",
        "bc:c",
        "-keystore",
        "ca.p12");
    pki.run("-exportcert", "-rfc", "-alias", "ca", "-keystore", "ca.p12", "-file", "ca.pem");
    return pki;
  }

  String password() {
    return password;
  }

  Path caPem() {
    return dir.resolve("ca.pem");
  }

  /** Issues {@code name}'s certificate; returns its PKCS#12 file (one key entry). */
  Path issue(String name) throws IOException, InterruptedException {
    String store = name + ".p12";
    run(
        "-genkeypair",
        "-alias",
        name,
        "-dname",
        "CN=" + name,
        "-keyalg",
        "EC",
        "-groupname",
        "secp256r1",
        "-keystore",
        store);
    run("-certreq", "-alias", name, "-keystore", store, "-file", name + ".csr");
    run(
        "-gencert",
        "-alias",
        "ca",
        "-keystore",
        "ca.p12",
        "-infile",
        name + ".csr",
        "-outfile",
        name + ".crt",
        "-rfc",
        "-ext",
        "san=ip:127.0.0.1,dns:localhost");
    run("-importcert", "-noprompt", "-alias", "ca", "-keystore", store, "-file", "ca.pem");
    run("-importcert", "-alias", name, "-keystore", store, "-file", name + ".crt");
    run("-delete", "-alias", "ca", "-keystore", store);
    return dir.resolve(store);
  }

  /** Sockets presenting the identity in {@code p12} and trusting the CA. */
  SSLSocketFactory sockets(Path p12) throws IOException, GeneralSecurityException {
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(p12)) {
      keys.load(in, password.toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keys, password.toCharArray());
    KeyStore trust = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(dir.resolve("ca.p12"))) {
      trust.load(in, password.toCharArray());
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return context.getSocketFactory();
  }

  private void run(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(keytool.toString()));
    command.addAll(List.of(args));
    command.addAll(List.of("-storepass", password, "-storetype", "PKCS12"));
    if (List.of(args).contains("-genkeypair")) {
      command.addAll(List.of("-keypass", password, "-validity", "2"));
    }
    Path out = dir.resolve("keytool.out");
    Process p =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(out.toFile())
            .start();
    if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("keytool " + args[0] + " did not finish in " + TIMEOUT_SECONDS + " s");
    }
    if (p.exitValue() != 0) {
      throw new IOException(
          "keytool "
              + String.join(" ", args)
              + " failed: "
              + Files.readString(out, StandardCharsets.UTF_8));
    }
  }
}
