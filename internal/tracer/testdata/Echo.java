// Echo: a Java echo server thread and a client doing 5 round trips of 100
// bytes, for the tracer tests.
import java.net.*; import java.io.*;
public class Echo {
  public static void main(String[] a) throws Exception {
    ServerSocket ss = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
    int port = ss.getLocalPort();
    Thread t = new Thread(() -> { try (Socket s = ss.accept()) { InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream(); byte[] b = new byte[100]; int n; while ((n = in.read(b)) > 0) out.write(b, 0, n); } catch (IOException e) { throw new RuntimeException(e); } });
    t.start();
    try (Socket c = new Socket(InetAddress.getLoopbackAddress(), port)) {
      for (int i = 0; i < 5; i++) { c.getOutputStream().write(new byte[100]); c.getInputStream().readNBytes(100); }
    }
    t.join(); System.out.println("ok");
  }
}
