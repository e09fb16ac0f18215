package org.gantry.itests.bench;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * The benchmark's own small PKI, made with the JDK's {@code keytool} (no BouncyCastle on the itests
 * class path): a CA, and certificates it signs for the broker (naming 127.0.0.1 and localhost) and
 * for each client. Written as the PEM files Mosquitto and {@code bin/gantry --ca --cert --key} read
 * (certificate, PKCS#8 key), and usable by the benchmark's own Paho clients as an {@link
 * SSLSocketFactory} with TCP_NODELAY.
 *
 * <p>RSA 2048 with SHA-256, as AWS IoT issues device certificates; valid from a day ago (clock
 * skew) for two days.
 */
final class BenchPki {

  private static final long KEYTOOL_TIMEOUT_SECONDS = 60;
  private static final String CA_ALIAS = "ca";

  /**
   * One identity signed by the CA.
   *
   * @param name the alias and common name
   * @param certFile PEM certificate
   * @param keyFile PEM private key, PKCS#8, mode 600
   * @param key the private key
   * @param certificate the certificate
   */
  record Identity(
      String name, Path certFile, Path keyFile, PrivateKey key, X509Certificate certificate) {}

  private final Path dir;
  private final char[] password;
  private final Path keytool;
  private final Path caStore;
  private final X509Certificate caCertificate;
  private final Path caFile;

  private BenchPki(
      Path dir, char[] password, Path keytool, Path caStore, X509Certificate ca, Path caFile) {
    this.dir = dir;
    this.password = password;
    this.keytool = keytool;
    this.caStore = caStore;
    this.caCertificate = ca;
    this.caFile = caFile;
  }

  /**
   * Makes a CA in {@code dir} (created if needed) and writes its certificate as {@code ca.pem}.
   *
   * @param dir a folder of the benchmark's work folder
   * @return the PKI
   * @throws IOException when keytool fails or a file cannot be written
   * @throws InterruptedException when interrupted while keytool runs
   */
  static BenchPki create(Path dir) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    if (!Files.isExecutable(keytool)) {
      throw new IOException(keytool + " is missing: the benchmark makes its certificates with it");
    }
    // A password for the key stores of this run only: they never leave the work folder.
    char[] password = Long.toHexString(System.nanoTime()).toCharArray();
    Path caStore = dir.resolve("ca.p12");
    run(
        keytool,
        dir,
        List.of(
            "-genkeypair",
            "-alias",
            CA_ALIAS,
            "-dname",
            "CN=Gantry bench CA,O=Gantry bench",
            "-ext",
            "bc:c",
            "-ext",
            "ku:c=keyCertSign,cRLSign"),
        caStore,
        password);
    X509Certificate ca;
    try {
      KeyStore s = load(caStore, password);
      ca = (X509Certificate) s.getCertificate(CA_ALIAS);
    } catch (GeneralSecurityException e) {
      throw new IOException("the CA key store " + caStore + " cannot be read: " + e, e);
    }
    Path caFile = dir.resolve("ca.pem");
    Files.writeString(caFile, pem("CERTIFICATE", encoded(ca)));
    return new BenchPki(dir, password, keytool, caStore, ca, caFile);
  }

  /** The CA certificate as PEM: what the broker and every client trust. */
  Path caFile() {
    return caFile;
  }

  /**
   * Makes a key pair and has the CA sign its certificate: subject alternative names 127.0.0.1 and
   * localhost (the broker's name as the clients check it), key usage for TLS servers and clients.
   *
   * @param name alias and common name, also the stem of the files {@code NAME.crt} and {@code
   *     NAME.key}
   * @return the identity
   * @throws IOException when keytool fails or a file cannot be written
   * @throws InterruptedException when interrupted while keytool runs
   */
  Identity issue(String name) throws IOException, InterruptedException {
    Path store = dir.resolve(name + ".p12");
    Path csr = dir.resolve(name + ".csr");
    Path certFile = dir.resolve(name + ".crt");
    run(
        keytool,
        dir,
        List.of("-genkeypair", "-alias", name, "-dname", "CN=" + name + ",O=Gantry bench"),
        store,
        password);
    run(
        keytool,
        dir,
        List.of("-certreq", "-alias", name, "-file", csr.toString()),
        store,
        password);
    run(
        keytool,
        dir,
        List.of(
            "-gencert",
            "-alias",
            CA_ALIAS,
            "-infile",
            csr.toString(),
            "-outfile",
            certFile.toString(),
            "-rfc",
            "-ext",
            "san=ip:127.0.0.1,dns:localhost",
            "-ext",
            "ku:c=digitalSignature,keyEncipherment",
            "-ext",
            "eku=serverAuth,clientAuth"),
        caStore,
        password);
    try {
      PrivateKey key = (PrivateKey) load(store, password).getKey(name, password);
      X509Certificate cert;
      try (InputStream in = Files.newInputStream(certFile)) {
        cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
      }
      cert.verify(caCertificate.getPublicKey());
      Path keyFile = dir.resolve(name + ".key");
      Files.deleteIfExists(keyFile);
      Files.createFile(
          keyFile,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(keyFile, pem("PRIVATE KEY", key.getEncoded()));
      return new Identity(name, certFile, keyFile, key, cert);
    } catch (GeneralSecurityException e) {
      throw new IOException("the identity " + name + " made by keytool is not usable: " + e, e);
    }
  }

  /**
   * Sockets for a Paho client with this identity: mutual TLS against a broker whose certificate the
   * CA signed, TCP_NODELAY on (BUILD-NOTES, latency pitfall), and the negotiated protocol and
   * cipher suite of the latest handshake kept for the figures' header.
   *
   * @param identity the client's identity
   * @return the factory
   * @throws GeneralSecurityException when the JDK refuses the key or the certificates
   */
  NoDelayTlsSocketFactory sockets(Identity identity) throws GeneralSecurityException {
    try {
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      keys.setKeyEntry(
          identity.name(),
          identity.key(),
          password,
          new Certificate[] {identity.certificate(), caCertificate});
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, password);
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry(CA_ALIAS, caCertificate);
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
      return new NoDelayTlsSocketFactory(context.getSocketFactory());
    } catch (IOException e) {
      throw new GeneralSecurityException("in-memory key store: " + e, e);
    }
  }

  private static KeyStore load(Path store, char[] password)
      throws IOException, GeneralSecurityException {
    KeyStore s = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      s.load(in, password);
    }
    return s;
  }

  private static byte[] encoded(X509Certificate c) throws IOException {
    try {
      return c.getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IOException("certificate encoding: " + e, e);
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  /**
   * Runs one keytool command on a PKCS#12 store, RSA 2048 / SHA-256, valid from a day ago for two
   * days; its output goes to {@code keytool.log}, which the error quotes.
   */
  private static void run(Path keytool, Path dir, List<String> args, Path store, char[] password)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(keytool.toString());
    cmd.addAll(args);
    String command = args.get(0);
    if (!command.equals("-certreq")) {
      cmd.addAll(List.of("-startdate", "-1d", "-validity", "2", "-sigalg", "SHA256withRSA"));
    }
    if (command.equals("-genkeypair")) {
      cmd.addAll(List.of("-keyalg", "RSA", "-keysize", "2048"));
    }
    cmd.addAll(
        List.of(
            "-keystore",
            store.toString(),
            "-storetype",
            "PKCS12",
            "-storepass:env",
            "BENCH_STOREPASS",
            "-noprompt"));
    Path log = dir.resolve("keytool.log");
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().put("BENCH_STOREPASS", new String(password));
    Process p = pb.start();
    if (!p.waitFor(KEYTOOL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      throw new IOException(
          "keytool " + command + " did not end within " + KEYTOOL_TIMEOUT_SECONDS + " s");
    }
    if (p.exitValue() != 0) {
      throw new IOException(
          "keytool "
              + command
              + " failed with status "
              + p.exitValue()
              + ": "
              + Files.readString(log, StandardCharsets.UTF_8).strip());
    }
  }

  /**
   * An {@link SSLSocketFactory} (Paho requires one for {@code ssl://}) whose sockets have
   * TCP_NODELAY, and which keeps the protocol and cipher suite of its latest handshake.
   */
  static final class NoDelayTlsSocketFactory extends SSLSocketFactory {

    private final SSLSocketFactory d;
    private final AtomicReference<String> negotiated = new AtomicReference<>("no handshake yet");

    NoDelayTlsSocketFactory(SSLSocketFactory delegate) {
      this.d = delegate;
    }

    /** {@code TLSv1.3 TLS_AES_128_GCM_SHA256}, say, of the latest completed handshake. */
    String negotiated() {
      return negotiated.get();
    }

    private Socket watched(Socket s) throws IOException {
      s.setTcpNoDelay(true);
      if (s instanceof SSLSocket ssl) {
        ssl.addHandshakeCompletedListener(
            e -> negotiated.set(e.getSession().getProtocol() + " " + e.getCipherSuite()));
      }
      return s;
    }

    @Override
    public String[] getDefaultCipherSuites() {
      return d.getDefaultCipherSuites();
    }

    @Override
    public String[] getSupportedCipherSuites() {
      return d.getSupportedCipherSuites();
    }

    @Override
    public Socket createSocket() throws IOException {
      return watched(d.createSocket());
    }

    @Override
    public Socket createSocket(Socket s, String host, int port, boolean autoClose)
        throws IOException {
      s.setTcpNoDelay(true);
      return watched(d.createSocket(s, host, port, autoClose));
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
      return watched(d.createSocket(host, port));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort)
        throws IOException {
      return watched(d.createSocket(host, port, localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
      return watched(d.createSocket(host, port));
    }

    @Override
    public Socket createSocket(
        InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
      return watched(d.createSocket(address, port, localAddress, localPort));
    }
  }
}
