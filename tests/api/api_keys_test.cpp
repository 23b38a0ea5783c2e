#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "api/api_keys.hpp"

namespace visor::api {
namespace {

constexpr std::string_view kAlice = "alice-key-0123456789abcdef";
constexpr std::string_view kBob = "bob-key-0123456789abcdef0";

TEST(ApiKeysTest, WithoutKeysEveryoneIsTheAnonymousCallerWhoSeesAll) {
  auto keys = ApiKeys::load("", "");
  ASSERT_TRUE(keys.ok());
  EXPECT_FALSE(keys->enabled());
  auto caller = keys->identify(std::nullopt);
  ASSERT_TRUE(caller.ok());
  EXPECT_FALSE(caller->owner.has_value());
}

TEST(ApiKeysTest, AKnownKeyIdentifiesItsOwnerWithoutStoringTheKey) {
  auto keys = ApiKeys::load("", std::string(kAlice) + ", bob-key-0123456789abcdef0");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 2u);
  auto alice = keys->identify(kAlice);
  ASSERT_TRUE(alice.ok());
  ASSERT_TRUE(alice->owner.has_value());
  EXPECT_EQ(*alice->owner, ApiKeys::owner_of(kAlice));
  EXPECT_EQ(alice->owner->find(kAlice), std::string::npos);
  EXPECT_NE(*alice->owner, *keys->identify("bob-key-0123456789abcdef0")->owner);
}

TEST(ApiKeysTest, MissingOrUnknownKeysAreUnauthenticated) {
  auto keys = ApiKeys::load("", kAlice);
  ASSERT_TRUE(keys.ok());
  for (std::optional<std::string_view> key : {std::optional<std::string_view>(), std::optional<std::string_view>(""),
                                              std::optional<std::string_view>("alice-key-0123456789abcdeX")}) {
    auto caller = keys->identify(key);
    ASSERT_FALSE(caller.ok());
    EXPECT_EQ(caller.error().kind, Error::Kind::unauthenticated);
  }
}

TEST(ApiKeysTest, AKeyFileHasLabelsCommentsAndRefusesShortKeysNamingTheLine) {
  const auto path = std::filesystem::temp_directory_path() / ("visor-keys-" + std::to_string(::getpid()));
  {
    std::ofstream out(path);
    out << "# tenants\n\n" << kAlice << " Alice's team\n";
  }
  auto keys = ApiKeys::load(path.string(), "");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->identify(kAlice)->name, "Alice's team");
  {
    std::ofstream out(path, std::ios::app);
    out << "short\n";
  }
  auto refused = ApiKeys::load(path.string(), "");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("line 4"), std::string::npos) << refused.error().message;
  std::filesystem::remove(path);
  EXPECT_FALSE(ApiKeys::load(path.string(), "").ok());
}

TEST(ApiKeysTest, AKeyMayCarryItsOwnWebhookSecretAnywhereAfterIt) {
  const auto path = std::filesystem::temp_directory_path() / ("visor-secrets-" + std::to_string(::getpid()));
  {
    std::ofstream out(path);
    out << kAlice << " Alice webhook-secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw team\n" << kBob << "\n";
  }
  auto keys = ApiKeys::load(path.string(), "");
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  EXPECT_EQ(keys->identify(kAlice)->name, "Alice team");
  ASSERT_NE(keys->webhook_secret(ApiKeys::owner_of(kAlice)), nullptr);
  EXPECT_EQ(keys->webhook_secret(ApiKeys::owner_of(kAlice))->sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                                                   R"({"test": 2432232314})"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  EXPECT_EQ(keys->webhook_secret(ApiKeys::owner_of(kBob)), nullptr);
  {
    std::ofstream out(path, std::ios::app);
    out << kAlice << "x webhook-secret=plain\n";
  }
  auto refused = ApiKeys::load(path.string(), "");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("line 3"), std::string::npos) << refused.error().message;
  std::filesystem::remove(path);
}

TEST(BearerTokenTest, ReadsOnlyTheBearerScheme) {
  EXPECT_EQ(bearer_token("Bearer abc"), "abc");
  EXPECT_EQ(bearer_token("bearer   abc  "), "abc");
  EXPECT_FALSE(bearer_token("Basic abc").has_value());
  EXPECT_FALSE(bearer_token("Bearer ").has_value());
  EXPECT_FALSE(bearer_token("").has_value());
}

}  // namespace
}  // namespace visor::api
