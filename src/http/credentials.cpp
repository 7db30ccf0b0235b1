#include "http/credentials.h"

namespace vb {

namespace {

class StaticCredentials final : public Credentials {
 public:
  explicit StaticCredentials(std::string value) : m_value(std::move(value)) {}
  std::string authorization(Millis) override { return m_value; }

 private:
  std::string m_value;
};

}  // namespace

std::unique_ptr<Credentials> static_credentials(std::string scheme, std::string key) {
  return std::make_unique<StaticCredentials>(std::move(scheme) + " " + std::move(key));
}

}  // namespace vb
