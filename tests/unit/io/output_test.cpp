// io::output: large block writes, every byte written in order, EPIPE -> broken_pipe,
// other failures -> write_error.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "sds/io/output.hpp"

using namespace sds;

TEST_CASE("output: everything appended reaches the file descriptor in order") {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    std::string expected;
    std::string got;
    std::thread reader([&] {
        char buf[4096];
        ssize_t n;
        while ((n = ::read(fds[0], buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
    });
    {
        io::output out;
        out.open_fd(fds[1], "pipe", true, 1000);  // small blocks: many flushes, many short writes
        for (int i = 0; i < 5000; ++i) {
            std::string line = "{\"n\":" + std::to_string(i) + "}\n";
            expected += line;
            out.write(line);
        }
        out.close();
        CHECK(out.bytes_written() == expected.size());
    }
    reader.join();
    ::close(fds[0]);
    CHECK(got == expected);
}

TEST_CASE("output: a closed pipe raises broken_pipe (quiet stop), not write_error") {
    auto old = ::signal(SIGPIPE, SIG_IGN);
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    ::close(fds[0]);
    io::output out;
    out.open_fd(fds[1], "pipe", true, 16);
    out.buffer() += "{\"a\":1}\n";
    CHECK_THROWS_AS(out.flush(), io::broken_pipe);
    ::signal(SIGPIPE, old);
}

TEST_CASE("output: /dev/full raises write_error naming the file") {
    io::output out("/dev/full", 16);
    out.buffer() += "{\"a\":1}\n";
    try {
        out.flush();
        FAIL("no error");
    } catch (const io::write_error& e) {
        CHECK(std::string(e.what()).find("/dev/full") != std::string::npos);
    }
}

TEST_CASE("output: opening an impossible path raises write_error") {
    CHECK_THROWS_AS(io::output("/nonexistent-dir/x/y.ndjson"), io::write_error);
}
